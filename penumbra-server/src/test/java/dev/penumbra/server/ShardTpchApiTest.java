package dev.penumbra.server;

import static dev.penumbra.server.ServerApiTest.assertError;
import static dev.penumbra.server.TestServers.get;
import static dev.penumbra.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.penumbra.query.QueryGateway;
import dev.penumbra.server.TestServers.Reply;
import dev.penumbra.shard.SqlShardFunction;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code /v1/requests} of kind tpch: sharded TPC-H sums over the server's DuckDB data, merged to the unsharded answer. */
class ShardTpchApiTest {
  static PenumbraServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServers.started(Map.of("PENUMBRA_STREAM_ENABLED", "false"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void shardedSumsMergeToTheUnshardedAnswerAndRangesMustCoverTheTable() throws Exception {
    Reply r = post(server, "/v1/requests", "{\"id\": \"q1\", \"kind\": \"tpch\", \"policy\": \"hash\", \"shards\": 4}");
    assertThat(r.status()).as(r.body()).isEqualTo(202);
    JsonNode[] d = new JsonNode[1];
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
      d[0] = get(server, "/v1/requests/q1").json();
      return !d[0].get("state").asText().equals("running");
    });
    assertThat(d[0].get("state").asText()).as(d[0].toString()).isEqualTo("done");
    String file = QueryGateway.databaseFile(TestServers.CACHE, 0.01, 42).toString();
    try (SqlShardFunction whole = new SqlShardFunction(file, ShardCapability.TPCH_Q1_SUMS, "l_orderkey", 1)) {
      // Exact decimals on both sides (the sums are DECIMAL, merged as BigDecimal).
      ObjectMapper exact = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
      JsonNode expected = exact.valueToTree(SqlShardFunction.sorted(whole.unsharded(), 2));
      JsonNode answer = exact.readTree(get(server, "/v1/requests/q1").body()).get("answer");
      assertThat(answer.toString()).isEqualTo(expected.toString());
      assertThat(expected.size()).isGreaterThan(1);
    }
    assertThat(d[0].get("shardList")).hasSize(4);

    // Key ranges that stop short of the table's last order key: refused, nothing reserved.
    int before = server.ledger().snapshot().reservations().size();
    Reply bad = post(server, "/v1/requests",
        "{\"kind\": \"tpch\", \"ranges\": {\"lineitem\": [[0, 1000], [1000, 2000]]}}");
    assertError(bad, 400, "ranges", "{lineitem=[[0, 1000], [1000, 2000]]}");
    assertThat(bad.json().get("error").asText()).contains("do not cover");
    assertError(post(server, "/v1/requests", "{\"kind\": \"tpch\", \"ranges\": {\"orders\": [[0, 10]]}}"), 400,
        "ranges", "{orders=[[0, 10]]}");
    assertThat(server.ledger().snapshot().reservations()).hasSize(before);
  }
}
