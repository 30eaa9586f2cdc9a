package dev.penumbra.shard.kafka;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.penumbra.core.Checks;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.shard.Attempt;
import dev.penumbra.shard.AttemptResult;
import dev.penumbra.shard.Backend;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Shards and their results over Kafka: the engine side. Each backend pool has a shard topic
 * ({@code penumbra.shards.<pool>}) read by its worker process ({@link ShardWorker}); every worker writes results and
 * heartbeats to one results topic ({@code penumbra.shard-results}), which this transport reads on a thread of its
 * own and hands to the attempt's callback.
 *
 * <p>A pool is alive while its worker's heartbeats arrive (within {@link Builder#heartbeatTimeout}); a worker killed
 * mid-shard stops them, the engine's sweeper takes its attempts for lost and retries them elsewhere. Workers commit
 * a shard's offset only after its result is written, so a restarted worker runs an unfinished shard again: its
 * result arrives a second time and the engine, which accepts one result per shard id, drops it. Cancelling is not
 * sent to workers (a cancelled attempt's late result is dropped by the engine the same way).
 */
public final class KafkaShardTransport implements AutoCloseable {

  private final String bootstrap;
  private final Clock clock;
  private final Duration heartbeatTimeout;
  private final Class<?> valueType;
  private final KafkaProducer<String, String> producer;
  private final KafkaConsumer<String, String> results;
  private final Thread reader;
  private final Map<String, Pool> pools = new ConcurrentHashMap<>();
  private final Map<String, Consumer<AttemptResult>> waiting = new ConcurrentHashMap<>();
  private final AtomicLong stale = new AtomicLong();
  private volatile boolean closed;

  private KafkaShardTransport(Builder b) {
    this.bootstrap = b.bootstrap;
    this.clock = b.clock;
    this.heartbeatTimeout = b.heartbeatTimeout;
    this.valueType = b.valueType;
    ensureTopics(bootstrap, List.of(Wire.RESULTS));
    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    pp.put(ProducerConfig.ACKS_CONFIG, "all");
    pp.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    this.producer = new KafkaProducer<>(pp);
    Properties cp = new Properties();
    cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    this.results = new KafkaConsumer<>(cp);
    // No group: the engine reads every result written from now on (its position is fixed before anything is sent).
    List<TopicPartition> parts = new ArrayList<>();
    results.partitionsFor(Wire.RESULTS).forEach(p -> parts.add(new TopicPartition(p.topic(), p.partition())));
    results.assign(parts);
    results.seekToEnd(parts);
    parts.forEach(results::position);
    this.reader = new Thread(this::read, "shard-results");
    reader.setDaemon(true);
    reader.start();
  }

  public static Builder builder(String bootstrapServers) {
    return new Builder(bootstrapServers);
  }

  /** Options; defaults in each setter's comment. */
  public static final class Builder {
    private final String bootstrap;
    private Clock clock = Clock.systemUTC();
    private Duration heartbeatTimeout = Duration.ofSeconds(2);
    private Class<?> valueType = Object.class;

    private Builder(String bootstrap) {
      if (bootstrap == null || bootstrap.isBlank()) {
        throw new IllegalArgumentException("bootstrap servers must not be blank, was '" + bootstrap + "'");
      }
      this.bootstrap = bootstrap;
    }

    /** The clock heartbeats are timed with; the system's by default. */
    public Builder clock(Clock clock) {
      Checks.notNull("clock", clock);
      this.clock = clock;
      return this;
    }

    /** A pool without a heartbeat for this long is taken for dead (> 0); 2 s by default (workers beat every 200 ms). */
    public Builder heartbeatTimeout(Duration d) {
      Checks.positive("heartbeat timeout", d);
      this.heartbeatTimeout = d;
      return this;
    }

    /** The Java type shard results are read into (e.g. {@code Long.class}); plain JSON values by default. */
    public Builder valueType(Class<?> type) {
      Checks.notNull("value type", type);
      this.valueType = type;
      return this;
    }

    public KafkaShardTransport build() {
      return new KafkaShardTransport(this);
    }
  }

  /**
   * The pool {@code id} as a backend of capacity {@code capacity} (its ledger node); creates its shard topic.
   * Its worker is started separately ({@link ShardWorker}).
   */
  public Backend backend(String id, Resources capacity) {
    if (id == null || !id.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException("pool id must be letters, digits, '.', '_' or '-', was '" + id + "'");
    }
    if (capacity == null || capacity.isZero()) {
      throw new IllegalArgumentException("pool '" + id + "' capacity must be non-zero, was " + capacity);
    }
    ensureTopics(bootstrap, List.of(Wire.shardTopic(id)));
    Pool p = new Pool(id, capacity);
    if (pools.putIfAbsent(id, p) != null) {
      throw new IllegalArgumentException("pool '" + id + "' is already open");
    }
    return p;
  }

  /** Results that came for an attempt nobody waits for any more (redelivered, or of a lost attempt). */
  public long staleResults() {
    return stale.get();
  }

  /** Creates the topics that do not exist yet (one partition each: one worker per pool). */
  static void ensureTopics(String bootstrap, List<String> topics) {
    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(ap)) {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<NewTopic> missing = new ArrayList<>();
      for (String t : topics) {
        if (!existing.contains(t)) {
          missing.add(new NewTopic(t, 1, (short) 1));
        }
      }
      if (!missing.isEmpty()) {
        try {
          admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
        }
      }
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("Kafka at '" + bootstrap + "' did not create topics " + topics + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics " + topics, e);
    }
  }

  private void read() {
    try {
      while (!closed) {
        for (ConsumerRecord<String, String> rec : results.poll(Duration.ofMillis(100))) {
          Wire.Message m;
          try {
            m = Wire.JSON.readValue(rec.value(), Wire.Message.class);
          } catch (JsonProcessingException bad) {
            stale.incrementAndGet();
            continue;
          }
          Pool p = pools.get(m.backend());
          if (p == null) {
            continue;
          }
          if (m.heartbeat()) {
            p.beat(m);
            continue;
          }
          p.beat(null);
          Consumer<AttemptResult> done = waiting.remove(m.attemptId());
          if (done == null) {
            stale.incrementAndGet();
            continue;
          }
          done.accept(decode(m));
        }
      }
    } catch (WakeupException stop) {
      // Closing.
    }
  }

  private AttemptResult decode(Wire.Message m) {
    Duration ran = Duration.ofNanos(m.ranNanos());
    if (m.error() != null) {
      return AttemptResult.failure(m.attemptId(), m.backend(), m.error(), ran);
    }
    Object value;
    try {
      value = m.value() == null ? null : Wire.JSON.treeToValue(m.value(), valueType);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      return AttemptResult.failure(m.attemptId(), m.backend(),
          "result of " + m.attemptId() + " is not a " + valueType.getSimpleName() + ": " + m.value(), ran);
    }
    return AttemptResult.success(m.attemptId(), m.backend(), value, Resources.cpu(m.usedCpuMillis()), ran);
  }

  @Override
  public void close() {
    closed = true;
    results.wakeup();
    try {
      reader.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    results.close();
    producer.close(Duration.ofSeconds(5));
  }

  /** One pool: its topic, its worker's last heartbeat. */
  private final class Pool implements Backend {
    private final String id;
    private final Resources capacity;
    private volatile Instant lastBeat;
    private volatile double busy;

    Pool(String id, Resources capacity) {
      this.id = id;
      this.capacity = capacity;
    }

    void beat(Wire.Message m) {
      lastBeat = clock.instant();
      if (m != null && m.capacity() > 0) {
        busy = Math.min(1.0, (double) m.busy() / m.capacity());
      }
    }

    @Override
    public String id() {
      return id;
    }

    @Override
    public Resources capacity() {
      return capacity;
    }

    @Override
    public void submit(Attempt attempt, Consumer<AttemptResult> done) {
      waiting.put(attempt.id(), done);
      String json;
      try {
        json = Wire.JSON.writeValueAsString(
            new Wire.Task(attempt.id(), id, attempt.shard(), attempt.reserved().cpuMillis()));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("shard " + attempt.shard().id() + " cannot be written as JSON: " + e, e);
      }
      // Sent asynchronously; a send that fails is an attempt that never reports, which the sweeper retries.
      producer.send(new ProducerRecord<>(Wire.shardTopic(id), attempt.id(), json));
    }

    @Override
    public void cancel(String attemptId) {
      // Not sent to the worker: its result, if it comes, goes to the engine, which keeps one result per shard.
    }

    @Override
    public boolean alive() {
      Instant b = lastBeat;
      return b != null && !clock.instant().isAfter(b.plus(heartbeatTimeout));
    }

    @Override
    public Map<Priority, Double> utilization() {
      Map<Priority, Double> m = new EnumMap<>(Priority.class);
      for (Priority p : Priority.values()) {
        m.put(p, alive() ? busy : 0.0);
      }
      return m;
    }
  }
}
