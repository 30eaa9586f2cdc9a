package dev.penumbra.server;

import static dev.penumbra.server.ServerApiTest.assertError;
import static dev.penumbra.server.TestServers.get;
import static dev.penumbra.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.penumbra.core.KafkaBroker;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.server.TestServers.Reply;
import dev.penumbra.shard.KeyRange;
import dev.penumbra.shard.ShardFunctions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /v1/requests} with {@code shard.transport = kafka}: the server starts each configured pool's worker
 * processes against an in-process KRaft broker, runs each priority's shards on its own pools, and answers as it does
 * in-process.
 */
class ShardKafkaApiTest {
  static KafkaBroker cluster;
  static PenumbraServer server;

  @BeforeAll
  static void start() throws Exception {
    cluster = KafkaBroker.start();
    server = TestServers.started(Map.of("PENUMBRA_QUERY_ENABLED", "false", "PENUMBRA_STREAM_ENABLED", "false",
        "PENUMBRA_LEDGER_CORES", "2", "PENUMBRA_SHARD_TRANSPORT", "kafka",
        "PENUMBRA_SHARD_BOOTSTRAP", cluster.bootstrapServers(),
        "PENUMBRA_SHARD_POOLS", "kstd:standard:2:2,kbatch:batch:1:1", "PENUMBRA_SHARD_HEARTBEAT_TIMEOUT", "3s"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private static JsonNode finished(String id) {
    JsonNode[] last = new JsonNode[1];
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() -> {
      last[0] = get(server, "/v1/requests/" + id).json();
      return !last[0].get("state").asText().equals("running");
    });
    return last[0];
  }

  @Test
  void eachPriorityRunsOnItsOwnPoolsOverKafka() throws Exception {
    Reply r = post(server, "/v1/requests", """
        {"id": "k-std", "policy": "key-range", "shards": 3, "priority": "standard",
         "units": [{"name": "scan", "from": 0, "to": 3000}, {"name": "merge", "from": 3000, "to": 3600, "dependsOn": ["scan"]}]}""");
    assertThat(r.status()).as(r.body()).isEqualTo(202);
    Reply b = post(server, "/v1/requests",
        "{\"id\": \"k-batch\", \"priority\": \"batch\", \"shards\": 2, \"units\": [{\"to\": 500}]}");
    assertThat(b.status()).as(b.body()).isEqualTo(202);
    JsonNode d = finished("k-std");
    assertThat(d.get("state").asText()).as(d.toString()).isEqualTo("done");
    assertThat(d.get("answer").asLong()).isEqualTo(ShardFunctions.expectedSum(KeyRange.of(0, 3600)));
    assertThat(d.get("shardList")).hasSize(6);
    assertThat(d.get("shardList").findValuesAsText("backend")).containsOnly("kstd");
    JsonNode db = finished("k-batch");
    assertThat(db.get("state").asText()).as(db.toString()).isEqualTo("done");
    assertThat(db.get("answer").asLong()).isEqualTo(ShardFunctions.expectedSum(KeyRange.of(0, 500)));
    assertThat(db.get("shardList").findValuesAsText("backend")).containsOnly("kbatch");
    await().atMost(Duration.ofSeconds(5)).until(() -> server.ledger().snapshot().reservations().stream()
        .filter(Reservation::isLive).noneMatch(x -> x.owner().contains("/")));
  }

  @Test
  void aPriorityNoPoolServesIsRefusedAndACancelReachesTheWorkers() throws Exception {
    long before = server.ledger().snapshot().reservations().size();
    assertError(post(server, "/v1/requests", "{\"priority\": \"critical\", \"units\": [{\"to\": 10}]}"), 400,
        "priority", "critical");
    assertThat(server.ledger().snapshot().reservations()).hasSize((int) before);
    // 20,000 keys at 200 us in one shard: 4 s on its worker unless the cancel stops it.
    Reply r = post(server, "/v1/requests",
        "{\"id\": \"k-cancel\", \"priority\": \"batch\", \"policy\": \"key-range\", \"shards\": 1,"
            + " \"units\": [{\"to\": 20000}]}");
    assertThat(r.status()).as(r.body()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
        .until(() -> get(server, "/v1/requests/k-cancel").json().get("shardList").findValuesAsText("state")
            .contains("running"));
    Reply c = TestServers.delete(server, "/v1/requests/k-cancel");
    assertThat(c.status()).as(c.body()).isEqualTo(200);
    assertThat(c.json().get("state").asText()).isEqualTo("cancelled");
    await().atMost(Duration.ofSeconds(30)).until(() -> get(server, "/metrics").body().lines()
        .anyMatch(l -> l.startsWith("penumbra_shard_cancelled_total") && !l.endsWith(" 0.0")));
    await().atMost(Duration.ofSeconds(5)).until(() -> server.ledger().snapshot().reservations().stream()
        .filter(Reservation::isLive).noneMatch(x -> x.owner().contains("/")));
  }
}
