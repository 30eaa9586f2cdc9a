package dev.penumbra.shard.kafka;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.penumbra.shard.ShardFunction;
import dev.penumbra.shard.ShardFunctions;
import dev.penumbra.shard.SqlShardFunction;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A backend pool's worker process: reads shard attempts from its pool's topic, runs them one at a time, writes each
 * result to the results topic and only then commits the attempt's offset (so a worker killed mid-shard runs it again
 * when restarted: at least once, deduplicated by the engine), and beats every 200 ms while alive.
 *
 * <pre>
 * java -cp &lt;penumbra-shard's classpath&gt; dev.penumbra.shard.kafka.ShardWorker \
 *     --bootstrap HOST:PORT --pool ID --function key-sum [--key-micros N]
 *     [--function sql --database FILE.duckdb --query "SELECT ... WHERE {keys} ..." --key-column COL]
 * </pre>
 */
public final class ShardWorker {

  static final Duration BEAT = Duration.ofMillis(200);

  private ShardWorker() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> opts;
    ShardFunction function;
    try {
      opts = parse(args);
      function = function(opts);
    } catch (IllegalArgumentException e) {
      System.err.println("shard worker: " + e.getMessage());
      System.exit(2);
      return;
    }
    run(opts.get("bootstrap"), opts.get("pool"), function);
  }

  static Map<String, String> parse(String[] args) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value pairs, got '" + a + "'");
      }
      m.put(a.substring(2), args[++i]);
    }
    for (String required : List.of("bootstrap", "pool", "function")) {
      if (m.get(required) == null || m.get(required).isBlank()) {
        throw new IllegalArgumentException("--" + required + " is required");
      }
    }
    return m;
  }

  static ShardFunction function(Map<String, String> opts) {
    String name = opts.get("function");
    return switch (name) {
      case ShardFunctions.KEY_SUM -> {
        long micros;
        try {
          micros = Long.parseLong(opts.getOrDefault("key-micros", "0"));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("--key-micros must be an integer, was '" + opts.get("key-micros") + "'");
        }
        yield ShardFunctions.keySum(Duration.ofNanos(Math.multiplyExact(micros, 1000L)));
      }
      case "sql" -> {
        try {
          yield new SqlShardFunction(required(opts, "database"), required(opts, "query"),
              required(opts, "key-column"), 1);
        } catch (java.sql.SQLException e) {
          throw new IllegalArgumentException("--database '" + opts.get("database") + "' cannot be opened: " + e);
        }
      }
      default -> throw new IllegalArgumentException("--function must be key-sum or sql, was '" + name + "'");
    };
  }

  private static String required(Map<String, String> opts, String name) {
    String v = opts.get(name);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("--" + name + " is required with --function " + opts.get("function"));
    }
    return v;
  }

  static void run(String bootstrap, String pool, ShardFunction function) throws InterruptedException {
    KafkaShardTransport.ensureTopics(bootstrap, List.of(Wire.RESULTS, Wire.shardTopic(pool)));
    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    pp.put(ProducerConfig.ACKS_CONFIG, "all");
    pp.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    Properties cp = new Properties();
    cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    // Offsets are committed under the pool's group; partitions are assigned, not subscribed (one worker per pool),
    // so a restarted worker resumes at once from the last committed shard, with no rebalance to wait for.
    cp.put(ConsumerConfig.GROUP_ID_CONFIG, "penumbra.shard-worker." + pool);
    cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cp.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "1");
    AtomicInteger busy = new AtomicInteger();
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp);
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
      Thread beat = new Thread(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          send(producer, pool, new Wire.Message(pool, null, null, null, 0, 0, busy.get(), 1));
          try {
            Thread.sleep(BEAT.toMillis());
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "shard-worker-beat");
      beat.setDaemon(true);
      beat.start();
      TopicPartition tp = new TopicPartition(Wire.shardTopic(pool), 0);
      consumer.assign(List.of(tp));
      System.err.println("shard worker " + pool + " reading " + tp.topic());
      while (true) {
        for (ConsumerRecord<String, String> rec : consumer.poll(Duration.ofMillis(100))) {
          Wire.Task task;
          try {
            task = Wire.JSON.readValue(rec.value(), Wire.Task.class);
          } catch (JsonProcessingException bad) {
            System.err.println("shard worker " + pool + ": skipped an unreadable shard at offset " + rec.offset());
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(rec.offset() + 1)));
            continue;
          }
          busy.incrementAndGet();
          long t0 = System.nanoTime();
          long cpu0 = mx.getCurrentThreadCpuTime();
          Wire.Message result;
          try {
            Object value = function.apply(task.shard());
            long wall = Math.max(1, System.nanoTime() - t0);
            long cpu = Math.max(0, mx.getCurrentThreadCpuTime() - cpu0);
            result = new Wire.Message(pool, task.attemptId(), Wire.JSON.valueToTree(value), null,
                Math.min(1000, Math.round(1000.0 * cpu / wall)), wall, busy.get(), 1);
          } catch (Exception e) {
            result = new Wire.Message(pool, task.attemptId(), null, e.getClass().getSimpleName() + ": " + e.getMessage(),
                0, System.nanoTime() - t0, busy.get(), 1);
          } finally {
            busy.decrementAndGet();
          }
          try {
            producer.send(new ProducerRecord<>(Wire.RESULTS, task.attemptId(), Wire.JSON.writeValueAsString(result)))
                .get(30, TimeUnit.SECONDS);
          } catch (Exception e) {
            // Not committed: the shard runs again after a restart.
            throw new IllegalStateException("result of " + task.attemptId() + " was not written: " + e, e);
          }
          consumer.commitSync(Map.of(tp, new OffsetAndMetadata(rec.offset() + 1)));
        }
      }
    }
  }

  private static void send(KafkaProducer<String, String> producer, String pool, Wire.Message m) {
    try {
      producer.send(new ProducerRecord<>(Wire.RESULTS, pool, Wire.JSON.writeValueAsString(m)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
