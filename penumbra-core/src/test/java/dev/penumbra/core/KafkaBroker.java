package dev.penumbra.core;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * One real KRaft broker in this JVM (a combined controller and broker) for the tests of every module that speaks
 * Kafka (stream, shard, server), set up one way: single replicas for the internal topics (or consumers get nothing)
 * no delay before a group's first rebalance, and sessions down to 1 s. It starts in about 4 s; a test class shares one.
 */
public final class KafkaBroker implements AutoCloseable {
  private final KafkaClusterTestKit cluster;

  private KafkaBroker(KafkaClusterTestKit cluster) {
    this.cluster = cluster;
  }

  /** Formats, starts and waits for the broker. */
  public static KafkaBroker start() throws Exception {
    TestKitNodes nodes = new TestKitNodes.Builder().setCombined(true).setNumBrokerNodes(1)
        .setNumControllerNodes(1).build();
    KafkaClusterTestKit cluster = new KafkaClusterTestKit.Builder(nodes)
        .setConfigProp("offsets.topic.replication.factor", "1")
        .setConfigProp("offsets.topic.num.partitions", "1")
        .setConfigProp("transaction.state.log.replication.factor", "1")
        .setConfigProp("group.initial.rebalance.delay.ms", "0")
        // Lets a test's consumers use a short session, so a worker killed mid-test is noticed in seconds.
        .setConfigProp("group.min.session.timeout.ms", "1000")
        .build();
    try {
      cluster.format();
      cluster.startup();
      cluster.waitForReadyBrokers();
      return new KafkaBroker(cluster);
    } catch (Exception | Error e) {
      cluster.close();
      throw e;
    }
  }

  /** The broker's {@code host:port} on loopback, for clients' {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return cluster.bootstrapServers();
  }

  /** An admin client of the broker (the caller closes it). */
  public Admin admin() {
    return cluster.admin();
  }

  @Override
  public void close() throws Exception {
    cluster.close();
  }
}
