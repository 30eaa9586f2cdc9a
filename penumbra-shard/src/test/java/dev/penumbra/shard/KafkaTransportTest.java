package dev.penumbra.shard;

import static org.awaitility.Awaitility.await;

import dev.penumbra.shard.kafka.KafkaShardTransport;
import dev.penumbra.shard.kafka.ShardWorkerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * The transport contract over a real in-process KRaft broker, each backend pool served by a worker process of its
 * own (started with this module's classpath; crashed with kill -9).
 */
class KafkaTransportTest extends ShardTransportContract {

  private static KafkaClusterTestKit cluster;
  private static Path logs;
  private KafkaShardTransport transport;
  private final Map<String, ShardWorkerProcess> workers = new HashMap<>();
  private final Map<String, List<ShardWorkerProcess>> poolWorkers = new HashMap<>();

  @BeforeAll
  static void broker() throws Exception {
    TestKitNodes nodes = new TestKitNodes.Builder().setCombined(true).setNumBrokerNodes(1)
        .setNumControllerNodes(1).build();
    cluster = new KafkaClusterTestKit.Builder(nodes)
        .setConfigProp("offsets.topic.replication.factor", "1")
        .setConfigProp("offsets.topic.num.partitions", "1")
        .setConfigProp("transaction.state.log.replication.factor", "1")
        .setConfigProp("group.initial.rebalance.delay.ms", "0")
        .build();
    cluster.format();
    cluster.startup();
    cluster.waitForReadyBrokers();
    logs = Files.createTempDirectory("shard-workers");
  }

  @AfterAll
  static void stopBroker() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @AfterEach
  void stopWorkers() {
    workers.values().forEach(ShardWorkerProcess::close);
    poolWorkers.values().forEach(ws -> ws.forEach(ShardWorkerProcess::close));
    if (transport != null) {
      transport.close();
    }
  }

  private ShardWorkerProcess worker(String id) throws Exception {
    return worker(id, id + "-w0");
  }

  private ShardWorkerProcess worker(String pool, String worker) throws Exception {
    return ShardWorkerProcess.start(cluster.bootstrapServers(), pool,
        Map.of("worker", worker, "function", ShardFunctions.KEY_SUM,
            "key-micros", Long.toString(PER_KEY.toNanos() / 1000)),
        logs.resolve(worker + ".log"));
  }

  private KafkaShardTransport transport() {
    if (transport == null) {
      transport = KafkaShardTransport.builder(cluster.bootstrapServers()).heartbeatTimeout(Duration.ofSeconds(3))
          .build();
    }
    return transport;
  }

  @Override
  protected Backend startPool(String id, int n) throws Exception {
    Backend b = transport().backend(id, CAPACITY, n);
    List<ShardWorkerProcess> ws = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ws.add(worker(id, id + "-w" + i));
    }
    poolWorkers.put(id, ws);
    // Ready once every worker beats and reads a partition of its own.
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
      List<KafkaShardTransport.WorkerView> seen = transport.workers().stream()
          .filter(w -> w.pool().equals(id) && w.alive() && !w.partitions().isEmpty()).toList();
      return seen.size() == n && seen.stream().mapToInt(w -> w.partitions().size()).sum() == n;
    });
    return b;
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
    poolWorkers.get(pool).get(index).kill9();
    return true;
  }

  @Override
  protected Backend startSql(String id, Path database) throws Exception {
    transport();
    Backend b = transport.backend(id, CAPACITY);
    workers.put(id, ShardWorkerProcess.start(cluster.bootstrapServers(), id, Map.of("worker", id + "-w0", "function",
        "sql", "database", database.toString(), "query", SLOW_SQL, "key-column", "k"), logs.resolve(id + "-w0.log")));
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> b.alive() && transport
        .workers().stream().anyMatch(w -> w.pool().equals(id) && w.alive() && !w.partitions().isEmpty()));
    return b;
  }

  @Override
  protected boolean busy(String id) {
    return transport.workers().stream().anyMatch(w -> w.pool().equals(id) && w.busy() > 0);
  }

  @Override
  protected long cancelledOnBackends() {
    return transport.cancelled();
  }

  @Override
  protected List<Backend> start(List<String> ids) throws Exception {
    transport();
    List<Backend> out = new ArrayList<>();
    for (String id : ids) {
      out.add(transport.backend(id, CAPACITY));
      workers.put(id, worker(id));
    }
    // Ready once every worker beats and has joined its pool's group (reads its partition): a shard sent before would
    // wait for the group's first assignment, seconds on a loaded machine.
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> out.stream().allMatch(Backend::alive) && ids.stream().allMatch(id -> transport.workers().stream()
            .anyMatch(w -> w.pool().equals(id) && w.alive() && !w.partitions().isEmpty())));
    return out;
  }

  @Override
  protected void crash(String id) throws Exception {
    workers.get(id).kill9();
  }

  @Override
  protected boolean restart(String id) throws Exception {
    workers.put(id, worker(id));
    return true;
  }
}
