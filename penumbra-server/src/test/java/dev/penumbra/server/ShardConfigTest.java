package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Priority;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.penumbra.shard.ShardHistory;
import java.nio.file.Path;

/** Section {@code shard}: the transport, Kafka's address and the pools, checked at load. */
class ShardConfigTest {

  private static ServerConfig load(Map<String, String> env) {
    return ServerConfig.load(null, env);
  }

  private static Map<String, String> kafka(String pools) {
    Map<String, String> env = new HashMap<>();
    env.put("PENUMBRA_SHARD_TRANSPORT", "kafka");
    env.put("PENUMBRA_SHARD_BOOTSTRAP", "127.0.0.1:9092,localhost:9093");
    env.put("PENUMBRA_SHARD_POOLS", pools);
    return env;
  }

  @Test
  void inProcessByDefault() {
    ShardConfig s = load(Map.of()).shard();
    assertThat(s.kafka()).isFalse();
    assertThat(s.pools()).isEmpty();
    assertThat(s).isEqualTo(ShardConfig.DEFAULT);
  }

  @Test
  void kafkaPoolsWithTheirPriorityAndWorkers() {
    Map<String, String> env = kafka("gold:critical:2:4, bulk:BATCH:1:2");
    env.put("PENUMBRA_SHARD_WORKERS", "external");
    env.put("PENUMBRA_SHARD_HEARTBEAT_TIMEOUT", "3s");
    ShardConfig s = load(env).shard();
    assertThat(s.kafka()).isTrue();
    assertThat(s.startWorkers()).isFalse();
    assertThat(s.heartbeatTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(s.pools()).containsExactly(new ShardConfig.Pool("gold", Priority.CRITICAL, 2, 4),
        new ShardConfig.Pool("bulk", Priority.BATCH, 1, 2));
  }

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource(delimiter = '|', value = {
      "PENUMBRA_SHARD_TRANSPORT|rabbitmq|shard.transport|rabbitmq|in-process or kafka",
      "PENUMBRA_SHARD_BOOTSTRAP|10.0.0.5:9092|shard.bootstrap|10.0.0.5:9092|not a loopback address",
      "PENUMBRA_SHARD_BOOTSTRAP|localhost|shard.bootstrap|localhost|host:port",
      "PENUMBRA_SHARD_BOOTSTRAP|127.0.0.1:99999|shard.bootstrap|127.0.0.1:99999|host:port",
      "PENUMBRA_SHARD_BOOTSTRAP|''|shard.bootstrap|''|must be set",
      "PENUMBRA_SHARD_POOLS|''|shard.pools|''|at least one pool",
      "PENUMBRA_SHARD_POOLS|gold:critical:2|shard.pools|gold:critical:2|id:priority:workers:cores",
      "PENUMBRA_SHARD_POOLS|gold:urgent:2:4|shard.pools|gold:urgent:2:4|priority must be critical, standard or batch, was 'urgent'",
      "PENUMBRA_SHARD_POOLS|gold:critical:0:4|shard.pools|gold:critical:0:4|workers must be in [1, 256], was 0",
      "PENUMBRA_SHARD_POOLS|gold:critical:two:4|shard.pools|gold:critical:two:4|workers must be an integer, was 'two'",
      "PENUMBRA_SHARD_POOLS|gold:critical:1:0|shard.pools|gold:critical:1:0|cores must be in [1, 4096], was 0",
      "PENUMBRA_SHARD_POOLS|a:batch:1:1,a:standard:1:1|shard.pools|a:batch:1:1,a:standard:1:1|'a' is listed twice",
      "PENUMBRA_SHARD_POOLS|go/ld:batch:1:1|shard.pools|go/ld:batch:1:1|id must be 1-64",
      "PENUMBRA_SHARD_POOLS|local:batch:1:1|shard.pools|local:batch:1:1|ledger node",
      "PENUMBRA_SHARD_WORKERS|maybe|shard.workers|maybe|start",
      "PENUMBRA_SHARD_HEARTBEAT_TIMEOUT|10ms|shard.heartbeatTimeout|10ms|[500ms, 5m]",
      "PENUMBRA_SHARD_HEARTBEAT_TIMEOUT|soon|shard.heartbeatTimeout|soon|not a duration",
      "PENUMBRA_SHARD_HISTORY|jdbc:mysql://127.0.0.1/h|shard.history|jdbc:mysql://127.0.0.1/h|jdbc:duckdb: or jdbc:postgresql:",
      "PENUMBRA_SHARD_HISTORY|mysql://h?password=s3cret|shard.history|(hidden: it holds a password)|jdbc:duckdb:"})
  void badKafkaSettingsNameTheKeyAndValue(String variable, String value, String key, String shown, String why) {
    Map<String, String> env = kafka("gold:critical:2:4");
    env.put(variable, value);
    assertThatThrownBy(() -> load(env)).isInstanceOf(ServerConfig.ConfigException.class)
        .hasMessageContaining(key + " = '" + shown + "'").hasMessageContaining(why)
        .satisfies(e -> assertThat(((ServerConfig.ConfigException) e).key()).isEqualTo(key));
  }

  @Test
  void theHistoryOutlivesTheServerInAConfiguredDatabase(@TempDir Path dir) throws Exception {
    String url = "jdbc:duckdb:" + dir.resolve("history.duckdb");
    PenumbraServer server = TestServers.started(Map.of("PENUMBRA_QUERY_ENABLED", "false",
        "PENUMBRA_STREAM_ENABLED", "false", "PENUMBRA_TASK_ENABLED", "false", "PENUMBRA_LEDGER_CORES", "2",
        "PENUMBRA_SHARD_HISTORY", url));
    try {
      TestServers.Reply r = TestServers.post(server, "/v1/requests",
          "{\"id\": \"h\", \"policy\": \"key-range\", \"shards\": 3, \"units\": [{\"to\": 300}]}");
      assertThat(r.status()).as(r.body()).isEqualTo(202);
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
          .until(() -> TestServers.get(server, "/v1/requests/h").json().get("state").asText().equals("done"));
    } finally {
      server.close();
    }
    // Written at the latest when the server stops; a later server predicts from it.
    try (ShardHistory h = ShardHistory.open(url, 5, 1.0)) {
      assertThat(h.size()).isEqualTo(3);
    }
  }

  @Test
  void kafkaSettingsWithoutKafkaAreRefused() {
    for (String[] kv : List.of(new String[] {"PENUMBRA_SHARD_BOOTSTRAP", "127.0.0.1:9092", "shard.bootstrap"},
        new String[] {"PENUMBRA_SHARD_POOLS", "gold:critical:1:1", "shard.pools"})) {
      assertThatThrownBy(() -> load(Map.of(kv[0], kv[1]))).isInstanceOf(ServerConfig.ConfigException.class)
          .hasMessageContaining(kv[2] + " = '" + kv[1] + "'").hasMessageContaining("shard.transport = kafka");
    }
  }
}
