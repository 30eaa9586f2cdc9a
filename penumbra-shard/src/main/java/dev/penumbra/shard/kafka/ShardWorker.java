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
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * A backend pool's worker process. The pool's workers read its topic as one consumer group (one partition per
 * worker; when one dies, the group gives its partitions to the others once its session times out). A worker runs
 * one attempt at a time, writes its result to the results topic and only then commits the attempt's offset, so an
 * attempt whose worker was killed mid-shard runs again on the partition's next owner (at least once, deduplicated
 * by the engine). It beats every 200 ms with the partitions it reads. It reads the control topic for cancels: a
 * running attempt is interrupted (checked every 20 ms; {@code key-sum} stops at once, a SQL shard's query inside
 * DuckDB) and a queued one skipped, each answered "cancelled" instead of a result.
 *
 * <pre>
 * java -cp &lt;penumbra-shard's classpath&gt; dev.penumbra.shard.kafka.ShardWorker \
 *     --bootstrap HOST:PORT --pool ID [--worker ID] [--session-timeout-ms 6000] --function key-sum [--key-micros N]
 *     [--function sql --database FILE.duckdb --query "SELECT ... WHERE {keys} ..." --key-column COL]
 * </pre>
 */
public final class ShardWorker {

  static final Duration BEAT = Duration.ofMillis(200);
  /** How often a running attempt is checked for a cancel. */
  static final Duration CANCEL_CHECK = Duration.ofMillis(20);
  /** Cancels older than this when a worker starts are not read (their attempts are long gone). */
  static final Duration CANCEL_LOOKBACK = Duration.ofMinutes(10);

  private ShardWorker() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> opts;
    ShardFunction function;
    Duration session;
    try {
      opts = parse(args);
      function = function(opts);
      session = sessionTimeout(opts);
    } catch (IllegalArgumentException e) {
      System.err.println("shard worker: " + e.getMessage());
      System.exit(2);
      return;
    }
    String worker = opts.getOrDefault("worker", opts.get("pool") + "-" + ProcessHandle.current().pid());
    run(opts.get("bootstrap"), opts.get("pool"), worker, function, session);
  }

  static Duration sessionTimeout(Map<String, String> opts) {
    String v = opts.getOrDefault("session-timeout-ms", "6000");
    long ms;
    try {
      ms = Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--session-timeout-ms must be an integer, was '" + v + "'");
    }
    if (ms < 1000 || ms > 300_000) {
      throw new IllegalArgumentException("--session-timeout-ms must be in [1000, 300000], was " + ms);
    }
    return Duration.ofMillis(ms);
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

  /**
   * The worker's functions: {@code --function} is {@code key-sum}, {@code sql} or both ({@code key-sum,sql}). A
   * worker with one function runs every shard with it; with both, a shard runs the one its function name says
   * ({@code key-sum}, or {@code --sql-name}, {@code sql} by default). The SQL database is opened on the first SQL
   * shard (it may not exist yet when the worker starts).
   */
  static ShardFunction function(Map<String, String> opts) {
    String names = opts.get("function");
    Map<String, ShardFunction> fs = new java.util.LinkedHashMap<>();
    for (String raw : names.split(",")) {
      String name = raw.strip();
      switch (name) {
        case ShardFunctions.KEY_SUM -> {
          long micros;
          try {
            micros = Long.parseLong(opts.getOrDefault("key-micros", "0"));
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--key-micros must be an integer, was '" + opts.get("key-micros")
                + "'");
          }
          if (micros < 0) {
            throw new IllegalArgumentException("--key-micros must be >= 0, was " + micros);
          }
          fs.put(ShardFunctions.KEY_SUM, ShardFunctions.keySum(Duration.ofNanos(Math.multiplyExact(micros, 1000L))));
        }
        case "sql" -> {
          String db = required(opts, "database");
          String query = required(opts, "query");
          String column = required(opts, "key-column");
          if (!query.contains("{keys}")) {
            throw new IllegalArgumentException("--query must contain {keys} (the shard's predicate), was '" + query
                + "'");
          }
          fs.put(opts.getOrDefault("sql-name", "sql"), new LazySql(db, query, column));
        }
        default -> throw new IllegalArgumentException("--function must be key-sum, sql or key-sum,sql, was '" + names
            + "'");
      }
    }
    if (fs.size() == 1) {
      return fs.values().iterator().next();
    }
    return shard -> {
      ShardFunction f = fs.get(shard.function());
      if (f == null) {
        throw new IllegalArgumentException("this worker runs " + fs.keySet() + ", not '" + shard.function() + "'");
      }
      return f.apply(shard);
    };
  }

  /** A SQL shard function opened on its first shard. */
  private static final class LazySql implements ShardFunction {
    private final String database;
    private final String query;
    private final String column;
    private SqlShardFunction open;

    LazySql(String database, String query, String column) {
      this.database = database;
      this.query = query;
      this.column = column;
    }

    @Override
    public synchronized Object apply(dev.penumbra.shard.Shard shard) throws Exception {
      if (open == null) {
        open = new SqlShardFunction(database, query, column, 1);
      }
      return open.apply(shard);
    }
  }

  private static String required(Map<String, String> opts, String name) {
    String v = opts.get(name);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("--" + name + " is required with --function " + opts.get("function"));
    }
    return v;
  }

  static void run(String bootstrap, String pool, String worker, ShardFunction function, Duration session)
      throws InterruptedException {
    String topic = Wire.shardTopic(pool);
    KafkaShardTransport.ensureTopics(bootstrap, Map.of(Wire.RESULTS, 1, Wire.CONTROL, 1, topic, 1));
    Properties pp = TopicReader.producerConfig(bootstrap);
    Properties cp = TopicReader.consumerConfig(bootstrap);
    // The pool's workers are one group: partitions = workers; a dead worker's partitions move to the others after
    // its session times out, and the next owner resumes from the last committed (= answered) attempt.
    cp.put(ConsumerConfig.GROUP_ID_CONFIG, "penumbra.shard-worker." + pool);
    cp.put(ConsumerConfig.CLIENT_ID_CONFIG, "penumbra-shard-worker-" + worker);
    cp.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
    cp.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Long.toString(session.toMillis()));
    cp.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Long.toString(Math.max(100, session.toMillis() / 3)));
    cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cp.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "1");
    AtomicInteger busy = new AtomicInteger();
    Set<Integer> assigned = ConcurrentHashMap.newKeySet();
    ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "shard-worker-run");
      t.setDaemon(true);
      return t;
    });
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp);
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp);
        Cancels cancels = new Cancels(bootstrap, pool)) {
      Thread beat = new Thread(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          send(producer, pool, new Wire.Message(pool, null, null, null, 0, 0, busy.get(), 1, worker,
              new java.util.TreeSet<>(assigned).stream().toList(), false));
          try {
            Thread.sleep(BEAT.toMillis());
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "shard-worker-beat");
      beat.setDaemon(true);
      beat.start();
      consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> parts) {
          parts.forEach(tp -> assigned.add(tp.partition()));
          System.err.println("shard worker " + worker + " reads " + topic + " partitions " + assigned);
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> parts) {
          parts.forEach(tp -> assigned.remove(tp.partition()));
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> parts) {
          parts.forEach(tp -> assigned.remove(tp.partition()));
        }
      });
      System.err.println("shard worker " + worker + " of pool " + pool + " joining group on " + topic);
      while (true) {
        for (ConsumerRecord<String, String> rec : consumer.poll(Duration.ofMillis(100))) {
          TopicPartition tp = new TopicPartition(rec.topic(), rec.partition());
          Wire.Task task;
          try {
            task = Wire.JSON.readValue(rec.value(), Wire.Task.class);
          } catch (JsonProcessingException bad) {
            System.err.println("shard worker " + worker + ": skipped an unreadable shard at " + tp + "@" + rec.offset());
            commit(consumer, tp, rec.offset(), worker);
            continue;
          }
          Wire.Message result = cancels.contains(task.attemptId())
              ? cancelled(pool, worker, task, 0)
              : execute(pool, worker, task, function, runner, cancels, busy);
          try {
            producer.send(new ProducerRecord<>(Wire.RESULTS, task.attemptId(), Wire.JSON.writeValueAsString(result)))
                .get(30, TimeUnit.SECONDS);
          } catch (Exception e) {
            // Not committed: the shard runs again after a restart.
            throw new IllegalStateException("result of " + task.attemptId() + " was not written: " + e, e);
          }
          commit(consumer, tp, rec.offset(), worker);
        }
      }
    } finally {
      runner.shutdownNow();
    }
  }

  /** A function's value and the CPU time its thread spent on it. */
  private record Ran(Object value, long cpuNanos) {}

  /** Runs an attempt on the runner thread, checking for its cancel while it runs. */
  private static Wire.Message execute(String pool, String worker, Wire.Task task, ShardFunction function,
      ExecutorService runner, Cancels cancels, AtomicInteger busy) throws InterruptedException {
    busy.incrementAndGet();
    long t0 = System.nanoTime();
    CountDownLatch ended = new CountDownLatch(1);
    try {
      ThreadMXBean mx = ManagementFactory.getThreadMXBean();
      Future<Ran> f = runner.submit(() -> {
        long cpu0 = mx.getCurrentThreadCpuTime();
        try {
          Object v = function.apply(task.shard());
          return new Ran(v, Math.max(0, mx.getCurrentThreadCpuTime() - cpu0));
        } finally {
          ended.countDown();
        }
      });
      while (true) {
        try {
          Ran r = f.get(CANCEL_CHECK.toMillis(), TimeUnit.MILLISECONDS);
          long wall = Math.max(1, System.nanoTime() - t0);
          return new Wire.Message(pool, task.attemptId(), Wire.JSON.valueToTree(r.value()), null,
              Math.min(1000, Math.round(1000.0 * r.cpuNanos() / wall)), wall, busy.get() - 1, 1, worker, null, false);
        } catch (TimeoutException running) {
          if (cancels.contains(task.attemptId())) {
            f.cancel(true);
            // Waits for the function to stop, so the next attempt never shares the core with a cancelled one.
            ended.await();
            return cancelled(pool, worker, task, System.nanoTime() - t0);
          }
        } catch (ExecutionException e) {
          Throwable c = e.getCause();
          return new Wire.Message(pool, task.attemptId(), null, c.getClass().getSimpleName() + ": " + c.getMessage(),
              0, System.nanoTime() - t0, busy.get() - 1, 1, worker, null, false);
        }
      }
    } finally {
      busy.decrementAndGet();
    }
  }

  private static Wire.Message cancelled(String pool, String worker, Wire.Task task, long ranNanos) {
    return new Wire.Message(pool, task.attemptId(), null, null, 0, ranNanos, 0, 1, worker, null, true);
  }

  private static void commit(KafkaConsumer<String, String> consumer, TopicPartition tp, long offset, String worker) {
    try {
      consumer.commitSync(Map.of(tp, new OffsetAndMetadata(offset + 1)));
    } catch (CommitFailedException | RebalanceInProgressException moved) {
      // The partition moved meanwhile: its next owner runs this attempt again and the engine drops the repeat.
      System.err.println("shard worker " + worker + ": " + tp + "@" + offset + " not committed (" + moved
          .getClass().getSimpleName() + "); its next owner runs it again");
    }
  }

  /** Reads the control topic on a thread of its own: the attempts of this pool asked to stop. */
  static final class Cancels implements AutoCloseable {
    private static final int KEEP = 100_000;
    private final Set<String> ids = java.util.Collections.newSetFromMap(new java.util.LinkedHashMap<>() {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
        return size() > KEEP;
      }
    });
    private final TopicReader reader;

    Cancels(String bootstrap, String pool) {
      KafkaConsumer<String, String> consumer = new KafkaConsumer<>(TopicReader.consumerConfig(bootstrap));
      TopicPartition tp = new TopicPartition(Wire.CONTROL, 0);
      consumer.assign(List.of(tp));
      // From a little before the start: a cancel of an attempt this worker takes over may predate it.
      long since = System.currentTimeMillis() - CANCEL_LOOKBACK.toMillis();
      OffsetAndTimestamp at = consumer.offsetsForTimes(Map.of(tp, since)).get(tp);
      if (at != null) {
        consumer.seek(tp, at.offset());
      } else {
        consumer.seekToEnd(List.of(tp));
      }
      consumer.position(tp);
      reader = new TopicReader(consumer, "shard-worker-cancels", Duration.ofMillis(50), Duration.ofSeconds(2),
          rec -> {
            try {
              Wire.Cancel c = Wire.JSON.readValue(rec.value(), Wire.Cancel.class);
              if (pool.equals(c.backend()) && c.attemptId() != null) {
                synchronized (ids) {
                  ids.add(c.attemptId());
                }
              }
            } catch (JsonProcessingException bad) {
              System.err.println("shard worker: skipped an unreadable cancel at offset " + rec.offset());
            }
          });
    }

    boolean contains(String attemptId) {
      synchronized (ids) {
        return ids.contains(attemptId);
      }
    }

    @Override
    public void close() {
      reader.close();
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
