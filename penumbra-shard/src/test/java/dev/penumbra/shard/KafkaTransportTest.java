package dev.penumbra.shard;

import static org.awaitility.Awaitility.await;

import dev.penumbra.core.KafkaBroker;
import dev.penumbra.core.Priority;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.shard.kafka.KafkaShardTransport;
import dev.penumbra.shard.kafka.ShardWorkerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The transport contract over a real in-process KRaft broker, each backend pool served by a worker process of its
 * own (started with this module's classpath; crashed with kill -9). One broker, one transport and every worker
 * process (two single-worker pools shared by most tests, which run SQL shards too, and a pool of two) serve the
 * whole class, all started at once before the first test (a JVM start costs seconds, more on a loaded machine): a
 * test's requests, shards and attempts have ids of their own, so what an earlier test left on a topic is skipped or
 * dropped; a worker a test killed is started again by the next test that needs it. Workers' group sessions time
 * out after 3 s (the broker allows 1 s), so a killed worker's partition moves on quickly.
 */
class KafkaTransportTest extends ShardTransportContract {

  /** The pools {@link #start} serves, one worker process each, shared by the tests. */
  private static final List<String> SHARED = List.of("k0", "k1");
  private static final String SESSION_MS = "3000";

  private static KafkaBroker cluster;
  private static Path logs;
  private static KafkaShardTransport transport;
  private static final Map<String, Backend> backends = new HashMap<>();
  private static final Map<String, ShardWorkerProcess> workers = new HashMap<>();
  private static final String PAIR = "pair";
  /** The DuckDB file of the SQL test, opened by a worker on its first SQL shard. */
  private static Path sqlDatabase;
  private static final List<ShardWorkerProcess> pairWorkers = new ArrayList<>();
  /** The process that stands in for the first shared pool's worker once the crash test restarts it. */
  private static Process spare;
  private static Path spareGate;

  @BeforeAll
  static void broker() throws Exception {
    cluster = KafkaBroker.start();
    logs = Files.createTempDirectory("shard-workers");
    sqlDatabase = slowSqlDatabase(logs);
    transport = KafkaShardTransport.builder(cluster.bootstrapServers()).heartbeatTimeout(Duration.ofSeconds(3))
        .build();
    // The shared pools' workers start at once, while the first test's engine is built.
    for (String id : SHARED) {
      backends.put(id, transport.backend(id, CAPACITY));
      workers.put(id, worker(id, id + "-w0"));
    }
    backends.put(PAIR, transport.backend(PAIR, CAPACITY, 2));
    for (int i = 0; i < 2; i++) {
      pairWorkers.add(worker(PAIR, PAIR + "-w" + i));
    }
    spareGate = logs.resolve("restart-" + SHARED.get(0));
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
        GatedWorker.class.getName(), spareGate.toString(), "--bootstrap", cluster.bootstrapServers(),
        "--pool", SHARED.get(0), "--worker", SHARED.get(0) + "-w0", "--session-timeout-ms", SESSION_MS,
        "--function", ShardFunctions.KEY_SUM, "--key-micros", Long.toString(PER_KEY.toNanos() / 1000)));
    spare = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logs.resolve("spare.log").toFile())).start();
    // Every worker ready before the first test, so no test's timing competes with JVMs still booting.
    awaitReady(SHARED, 1);
    awaitReady(List.of(PAIR), 2);
    // One small shard through each shared pool: its worker's first fetch (offsets, the first record) and this JVM's
    // engine code are warm before a test times anything.
    for (String id : SHARED) {
      try (ShardHistory h = ShardHistory.inMemory(1.0);
          ShardEngine e = ShardEngine.builder(Ledger.inMemory(Clock.systemUTC()), h).backend(backends.get(id))
              .minTimeout(Duration.ofMinutes(2)).build()) {
        CompletableFuture<RequestResult> f = e.submit(new ShardRequest("warm-" + id, "sum", Priority.STANDARD,
            List.of(Unit.of("u", ShardFunctions.KEY_SUM, KeyRange.of(0, 10)))), ShardPolicy.KEY_RANGE, 1);
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20)).until(() -> {
          e.tick();
          return f.isDone();
        });
        f.join();
      }
    }
  }

  @AfterAll
  static void stopBroker() throws Exception {
    workers.values().forEach(ShardWorkerProcess::close);
    pairWorkers.forEach(ShardWorkerProcess::close);
    if (spare != null) {
      spare.destroyForcibly();
      spare.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
    }
    if (transport != null) {
      transport.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  /** A worker running key sums, and SQL shards (function {@code sql}) on the slow SQL database. */
  private static ShardWorkerProcess worker(String pool, String worker) throws Exception {
    return worker(pool, worker, Map.of("function", ShardFunctions.KEY_SUM + ",sql",
        "key-micros", Long.toString(PER_KEY.toNanos() / 1000), "database", sqlDatabase.toString(), "query", SLOW_SQL,
        "key-column", "k"));
  }

  private static ShardWorkerProcess worker(String pool, String worker, Map<String, String> options)
      throws Exception {
    Map<String, String> o = new HashMap<>(options);
    o.put("worker", worker);
    o.put("session-timeout-ms", SESSION_MS);
    return ShardWorkerProcess.start(cluster.bootstrapServers(), pool, o, logs.resolve(worker + ".log"));
  }

  /** Waits until every pool in {@code pools} has {@code n} live workers each reading partitions of their own. */
  private static void awaitReady(List<String> pools, int n) {
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20)).until(() -> pools.stream()
        .allMatch(id -> {
          List<KafkaShardTransport.WorkerView> seen = transport.workers().stream()
              .filter(w -> w.pool().equals(id) && w.alive() && !w.partitions().isEmpty()).toList();
          return seen.size() == n && seen.stream().mapToInt(w -> w.partitions().size()).sum() == n;
        }));
  }

  @Override
  protected List<String> backendIds(int n) {
    return SHARED.subList(0, n);
  }

  @Override
  protected List<Backend> start(List<String> ids) throws Exception {
    List<Backend> out = new ArrayList<>();
    for (String id : ids) {
      boolean spareServes = id.equals(SHARED.get(0)) && Files.exists(spareGate) && spare.isAlive();
      if (!workers.get(id).isAlive() && !spareServes) {
        workers.put(id, worker(id, id + "-w0"));
      }
      out.add(backends.get(id));
    }
    // Ready once every worker beats and has joined its pool's group (reads its partition): a shard sent before would
    // wait for the group's first assignment, seconds on a loaded machine.
    awaitReady(ids, 1);
    return out;
  }

  @Override
  protected Backend startPairPool() {
    // Used by one test only (which kills one of its workers).
    awaitReady(List.of(PAIR), 2);
    return backends.get(PAIR);
  }

  @Override
  protected Backend startSql() throws Exception {
    // The second shared pool's worker runs SQL shards too.
    return start(List.of(SHARED.get(1))).get(0);
  }

  @Override
  protected boolean busy(String id) {
    return transport.workers().stream().anyMatch(w -> w.pool().equals(id) && w.busy() > 0);
  }

  @Override
  protected boolean crashBusyWorker(String pool) throws Exception {
    String[] busy = new String[1];
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(() -> {
      for (KafkaShardTransport.WorkerView w : transport.workers()) {
        if (w.pool().equals(pool) && w.busy() > 0) {
          busy[0] = w.worker();
          return true;
        }
      }
      return false;
    });
    int index = Integer.parseInt(busy[0].substring(busy[0].lastIndexOf("-w") + 2));
    pairWorkers.get(index).kill9();
    return true;
  }

  @Override
  protected long cancelledOnBackends() {
    return transport.cancelled();
  }

  @Override
  protected void crash(String id) throws Exception {
    workers.get(id).kill9();
  }

  @Override
  protected boolean restart(String id) throws Exception {
    if (id.equals(SHARED.get(0)) && !Files.exists(spareGate)) {
      // The same worker id on a new process, booted in advance.
      Files.createFile(spareGate);
    } else {
      workers.put(id, worker(id, id + "-w0"));
    }
    return true;
  }
}
