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
    if (transport != null) {
      transport.close();
    }
  }

  private ShardWorkerProcess worker(String id) throws Exception {
    return ShardWorkerProcess.start(cluster.bootstrapServers(), id,
        Map.of("function", ShardFunctions.KEY_SUM, "key-micros", Long.toString(PER_KEY.toNanos() / 1000)),
        logs.resolve(id + ".log"));
  }

  @Override
  protected List<Backend> start(List<String> ids) throws Exception {
    transport = KafkaShardTransport.builder(cluster.bootstrapServers()).heartbeatTimeout(Duration.ofSeconds(3))
        .valueType(Long.class).build();
    List<Backend> out = new ArrayList<>();
    for (String id : ids) {
      out.add(transport.backend(id, CAPACITY));
      workers.put(id, worker(id));
    }
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> out.stream().allMatch(Backend::alive));
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
