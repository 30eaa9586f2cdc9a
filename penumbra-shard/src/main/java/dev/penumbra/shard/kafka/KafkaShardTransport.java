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
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Shards and their results over Kafka: the engine side. Each backend pool has a shard topic
 * ({@code penumbra.shards.<pool>}) with one partition per worker, read by the pool's workers ({@link ShardWorker})
 * as one consumer group; every worker writes results and heartbeats to one results topic
 * ({@code penumbra.shard-results}), which this transport reads on a thread of its own and hands to the attempt's
 * callback. Cancels go to one control topic ({@code penumbra.shard-control}) that every worker reads.
 *
 * <p>A pool is alive while one of its workers beats (within {@link Builder#heartbeatTimeout}); a pool whose last
 * worker was killed mid-shard stops beating, the engine's sweeper takes its attempts for lost and retries them
 * elsewhere. A pool with several workers survives one's death: the group gives the dead worker's partitions to the
 * others once its session times out, and they run its unfinished shard again from the last committed offset.
 * Workers commit a shard's offset only after its result is written: at least once; the engine accepts one result per
 * shard id and drops a repeat. Attempts go to the partition with the fewest outstanding attempts among those a live
 * worker reads.
 */
public final class KafkaShardTransport implements AutoCloseable {

  private final String bootstrap;
  private final Clock clock;
  private final Duration heartbeatTimeout;
  private final Class<?> valueType;
  private final KafkaProducer<String, String> producer;
  private final TopicReader reader;
  private final Map<String, Pool> pools = new ConcurrentHashMap<>();
  private final Map<String, Consumer<AttemptResult>> waiting = new ConcurrentHashMap<>();
  private final AtomicLong stale = new AtomicLong();
  private final AtomicLong cancelled = new AtomicLong();
  private KafkaShardTransport(Builder b) {
    this.bootstrap = b.bootstrap;
    this.clock = b.clock;
    this.heartbeatTimeout = b.heartbeatTimeout;
    this.valueType = b.valueType;
    ensureTopics(bootstrap, Map.of(Wire.RESULTS, 1, Wire.CONTROL, 1));
    this.producer = new KafkaProducer<>(TopicReader.producerConfig(bootstrap));
    KafkaConsumer<String, String> results = new KafkaConsumer<>(TopicReader.consumerConfig(bootstrap));
    // No group: the engine reads every result written from now on (its position is fixed before anything is sent).
    List<TopicPartition> parts = new ArrayList<>();
    results.partitionsFor(Wire.RESULTS).forEach(p -> parts.add(new TopicPartition(p.topic(), p.partition())));
    results.assign(parts);
    results.seekToEnd(parts);
    parts.forEach(results::position);
    this.reader = new TopicReader(results, "shard-results", Duration.ofMillis(100), Duration.ofSeconds(5),
        this::read);
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
   * The pool {@code id} served by one worker, as a backend of capacity {@code capacity} (its ledger node).
   *
   * @see #backend(String, Resources, int)
   */
  public Backend backend(String id, Resources capacity) {
    return backend(id, capacity, 1);
  }

  /**
   * The pool {@code id} as a backend of capacity {@code capacity} (its ledger node), served by {@code workers}
   * workers: creates its shard topic with that many partitions (or adds partitions to an existing one). Its workers
   * are started separately ({@link ShardWorker}, {@link ShardWorkerProcess}).
   */
  public Backend backend(String id, Resources capacity, int workers) {
    if (id == null || !id.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException("pool id must be letters, digits, '.', '_' or '-', was '" + id + "'");
    }
    if (capacity == null || capacity.isZero()) {
      throw new IllegalArgumentException("pool '" + id + "' capacity must be non-zero, was " + capacity);
    }
    if (workers < 1 || workers > MAX_WORKERS) {
      throw new IllegalArgumentException("pool '" + id + "' workers must be in [1, " + MAX_WORKERS + "], was "
          + workers);
    }
    ensureTopics(bootstrap, Map.of(Wire.shardTopic(id), workers));
    Pool p = new Pool(id, capacity, workers);
    if (pools.putIfAbsent(id, p) != null) {
      throw new IllegalArgumentException("pool '" + id + "' is already open");
    }
    return p;
  }

  /** Workers per pool at most (partitions of its topic). */
  public static final int MAX_WORKERS = 256;

  /**
   * A pool's worker as its heartbeats show it.
   *
   * @param pool its pool
   * @param worker its id
   * @param partitions the partitions of the pool's topic it reads
   * @param busy attempts it runs now
   * @param alive whether its last heartbeat is recent (within the heartbeat timeout)
   */
  public record WorkerView(String pool, String worker, List<Integer> partitions, int busy, boolean alive) {}

  /** Every worker heard from, by pool then worker id. */
  public List<WorkerView> workers() {
    List<WorkerView> out = new ArrayList<>();
    for (Pool p : new java.util.TreeMap<>(pools).values()) {
      for (Map.Entry<String, Beat> e : new java.util.TreeMap<>(p.beats).entrySet()) {
        Beat b = e.getValue();
        out.add(new WorkerView(p.id, e.getKey(), b.partitions, b.busy, p.fresh(b)));
      }
    }
    return out;
  }

  /** Attempts that workers confirmed stopped (or skipped before they started) on a cancel. */
  public long cancelled() {
    return cancelled.get();
  }

  /** Results that came for an attempt nobody waits for any more (redelivered, or of a lost attempt). */
  public long staleResults() {
    return stale.get();
  }

  /**
   * Creates the topics that do not exist yet with the given partitions, and adds partitions to an existing topic
   * that has fewer (a pool given more workers).
   */
  static void ensureTopics(String bootstrap, Map<String, Integer> topics) {
    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(ap)) {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<NewTopic> missing = new ArrayList<>();
      List<String> present = new ArrayList<>();
      for (Map.Entry<String, Integer> t : topics.entrySet()) {
        if (existing.contains(t.getKey())) {
          present.add(t.getKey());
        } else {
          missing.add(new NewTopic(t.getKey(), t.getValue(), (short) 1));
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
      if (!present.isEmpty()) {
        Map<String, NewPartitions> grow = new java.util.HashMap<>();
        admin.describeTopics(present).allTopicNames().get(30, TimeUnit.SECONDS).forEach((name, d) -> {
          if (d.partitions().size() < topics.get(name)) {
            grow.put(name, NewPartitions.increaseTo(topics.get(name)));
          }
        });
        if (!grow.isEmpty()) {
          admin.createPartitions(grow).all().get(30, TimeUnit.SECONDS);
        }
      }
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("Kafka at '" + bootstrap + "' did not create topics " + topics.keySet() + ": "
          + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics " + topics.keySet(), e);
    }
  }

  /** One record of the results topic: a heartbeat, a cancelled attempt's note, or an attempt's result. */
  private void read(ConsumerRecord<String, String> rec) {
    Wire.Message m;
    try {
      m = Wire.JSON.readValue(rec.value(), Wire.Message.class);
    } catch (JsonProcessingException bad) {
      stale.incrementAndGet();
      return;
    }
    Pool p = pools.get(m.backend());
    if (p == null) {
      return;
    }
    if (m.heartbeat()) {
      p.beat(m);
      return;
    }
    p.touch(m.worker());
    p.outstanding.remove(m.attemptId());
    if (m.cancelled()) {
      // Stopped on our cancel: the engine gave it up already, there is nothing to hand over.
      waiting.remove(m.attemptId());
      cancelled.incrementAndGet();
      return;
    }
    Consumer<AttemptResult> done = waiting.remove(m.attemptId());
    if (done == null) {
      stale.incrementAndGet();
      return;
    }
    done.accept(decode(m));
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
    reader.close();
    producer.close(Duration.ofSeconds(5));
  }

  /** A worker's last heartbeat. */
  private record Beat(Instant at, int busy, int capacity, List<Integer> partitions) {}

  /**
   * One pool: its topic, its workers' last heartbeats, the attempts outstanding per partition. A Backend as
   * InProcessBackend is (the same accessors), but its shards travel to worker processes instead of local threads.
   */
  private final class Pool implements Backend {
    private final String id;
    private final Resources capacity;
    private final int partitions;
    private final Map<String, Beat> beats = new ConcurrentHashMap<>();
    /** Attempt id -> the partition it was sent to, until its result (or cancel) comes back. */
    private final Map<String, Integer> outstanding = new ConcurrentHashMap<>();

    Pool(String id, Resources capacity, int partitions) {
      this.id = id;
      this.capacity = capacity;
      this.partitions = partitions;
    }

    void beat(Wire.Message m) {
      String w = m.worker() == null ? id : m.worker();
      beats.put(w, new Beat(clock.instant(), m.busy(), Math.max(1, m.capacity()),
          m.partitions() == null ? List.of() : List.copyOf(m.partitions())));
    }

    /** A result is a sign of life too (a busy worker's heartbeats may lag on a loaded machine). */
    void touch(String worker) {
      if (worker != null) {
        beats.computeIfPresent(worker, (w, b) -> new Beat(clock.instant(), b.busy(), b.capacity(), b.partitions()));
      }
    }

    boolean fresh(Beat b) {
      return !clock.instant().isAfter(b.at().plus(heartbeatTimeout));
    }

    /** The partition with the fewest outstanding attempts among those a live worker reads (any, if none is read). */
    int partition() {
      Set<Integer> read = new java.util.HashSet<>();
      for (Beat b : beats.values()) {
        if (fresh(b)) {
          read.addAll(b.partitions());
        }
      }
      int[] count = new int[partitions];
      for (int p : outstanding.values()) {
        if (p < partitions) {
          count[p]++;
        }
      }
      int best = -1;
      for (int p = 0; p < partitions; p++) {
        if ((read.isEmpty() || read.contains(p)) && (best < 0 || count[p] < count[best])) {
          best = p;
        }
      }
      return Math.max(0, best);
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
      int partition;
      synchronized (this) {
        partition = partition();
        outstanding.put(attempt.id(), partition);
      }
      // Sent asynchronously; a send that fails is an attempt that never reports, which the sweeper retries.
      producer.send(new ProducerRecord<>(Wire.shardTopic(id), partition, attempt.id(), json));
    }

    @Override
    public void cancel(String attemptId) {
      // The worker holding it interrupts it (or skips it) and answers "cancelled"; if it finished first, its result
      // still comes and the engine, which keeps one result per shard, drops it.
      String json;
      try {
        json = Wire.JSON.writeValueAsString(new Wire.Cancel(id, attemptId));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
      producer.send(new ProducerRecord<>(Wire.CONTROL, id, json));
    }

    @Override
    public boolean alive() {
      for (Beat b : beats.values()) {
        if (fresh(b)) {
          return true;
        }
      }
      return false;
    }

    @Override
    public Map<Priority, Double> utilization() {
      int busy = 0;
      int cap = 0;
      for (Beat b : beats.values()) {
        if (fresh(b)) {
          busy += b.busy();
          cap += b.capacity();
        }
      }
      double u = cap == 0 ? 0.0 : Math.min(1.0, (double) busy / cap);
      Map<Priority, Double> m = new EnumMap<>(Priority.class);
      for (Priority p : Priority.values()) {
        m.put(p, u);
      }
      return m;
    }
  }
}
