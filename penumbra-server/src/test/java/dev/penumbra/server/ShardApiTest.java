package dev.penumbra.server;

import static dev.penumbra.server.ServerApiTest.assertError;
import static dev.penumbra.server.TestServers.get;
import static dev.penumbra.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.server.TestServers.Reply;
import dev.penumbra.shard.KeyRange;
import dev.penumbra.shard.ShardFunctions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code /v1/requests}: sharded requests end to end, their shards' view, bad input refused with nothing reserved. */
class ShardApiTest {
  static PenumbraServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServers.started(Map.of("PENUMBRA_QUERY_ENABLED", "false", "PENUMBRA_STREAM_ENABLED", "false",
        "PENUMBRA_LEDGER_CORES", "4"));
    // The routes' first answers (class loading, JSON writers) before any test times a running request.
    get(server, "/v1/requests");
    get(server, "/v1/shard/pools");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static JsonNode finished(String id) {
    JsonNode[] last = new JsonNode[1];
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
      last[0] = get(server, "/v1/requests/" + id).json();
      return !last[0].get("state").asText().equals("running");
    });
    return last[0];
  }

  private static long liveShardReservations() {
    return server.ledger().snapshot().reservations().stream().filter(Reservation::isLive)
        .filter(r -> r.owner().contains("/")).count();
  }

  @Test
  void aTwoStageRequestRunsEveryShardOnItsReservationAndAnswersExactly() throws Exception {
    Reply r = post(server, "/v1/requests", """
        {"id": "two-stage", "policy": "key-range", "shards": 3,
         "units": [{"name": "scan", "from": 0, "to": 3000}, {"name": "merge", "from": 3000, "to": 3600, "dependsOn": ["scan"]}]}""");
    assertThat(r.status()).as(r.body()).isEqualTo(202);
    assertThat(r.json().get("state").asText()).isEqualTo("running");
    // While it runs, a shard is seen running on its reservation.
    AtomicBoolean sawRunning = new AtomicBoolean();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> {
      JsonNode d = get(server, "/v1/requests/two-stage").json();
      for (JsonNode s : d.get("shardList")) {
        if (s.get("state").asText().equals("running") && s.has("reservationId") && s.get("reservedCpuMillis").asLong() > 0) {
          sawRunning.set(true);
        }
      }
      return sawRunning.get() || !d.get("state").asText().equals("running");
    });
    JsonNode d = finished("two-stage");
    assertThat(d.get("state").asText()).as(d.toString()).isEqualTo("done");
    assertThat(d.get("answer").asLong()).isEqualTo(ShardFunctions.expectedSum(KeyRange.of(0, 3600)));
    assertThat(d.get("shardList")).hasSize(6);
    for (JsonNode s : d.get("shardList")) {
      assertThat(s.get("state").asText()).isEqualTo("done");
      assertThat(s.get("predictedP99Millis").asDouble()).isGreaterThanOrEqualTo(s.get("predictedP50Millis").asDouble());
      assertThat(s.get("reservedCpuMillis").asLong()).isPositive();
    }
    assertThat(get(server, "/v1/requests").json().findValuesAsText("id")).contains("two-stage");
    await().atMost(Duration.ofSeconds(5)).until(() -> liveShardReservations() == 0);
    String metrics = get(server, "/metrics").body();
    assertThat(metrics).contains("penumbra_shard_completed_total");
  }

  @Test
  void badRequestsNameTheFieldAndReserveNothing() throws Exception {
    long reservationsBefore = server.ledger().snapshot().reservations().size();
    assertError(post(server, "/v1/requests", "{\"units\": []}"), 400, "units", "[]");
    assertError(post(server, "/v1/requests", "{}"), 400, "units", "null");
    assertError(post(server, "/v1/requests", "{\"policy\": \"zigzag\", \"units\": [{\"to\": 10}]}"), 400, "policy",
        "zigzag");
    assertError(post(server, "/v1/requests", "{\"shards\": 0, \"units\": [{\"to\": 10}]}"), 400, "shards", "0");
    assertError(post(server, "/v1/requests", "{\"policy\": \"key-range\", \"shards\": 11, \"units\": [{\"to\": 10}]}"),
        400, "shards", "11");
    assertError(post(server, "/v1/requests", "{\"units\": [{\"from\": 5, \"to\": 5}]}"), 400, "units[0].to", "5");
    assertError(post(server, "/v1/requests", "{\"units\": [{\"to\": 1000000}]}"), 400, "units[0].to", "1000000");
    assertError(post(server, "/v1/requests", "{\"kind\": \"video\", \"units\": [{\"to\": 10}]}"), 400, "kind", "video");
    // Explicit key ranges that leave a gap, or stop short of the unit's end.
    Reply gap = post(server, "/v1/requests",
        "{\"units\": [{\"name\": \"u\", \"to\": 100}], \"ranges\": {\"u\": [[0, 50], [60, 100]]}}");
    assertError(gap, 400, "ranges", "{u=[[0, 50], [60, 100]]}");
    assertThat(gap.json().get("error").asText()).contains("[50, 60)");
    Reply shortOfEnd = post(server, "/v1/requests",
        "{\"units\": [{\"name\": \"u\", \"to\": 100}], \"ranges\": {\"u\": [[0, 50]]}}");
    assertThat(shortOfEnd.status()).isEqualTo(400);
    assertThat(shortOfEnd.json().get("error").asText()).contains("do not cover");
    assertError(post(server, "/v1/requests", "{\"units\": [{\"to\": 10}], \"ranges\": {\"u0\": []}}"), 400,
        "ranges.u0", "[]");
    // Units that depend on each other in a cycle, and ranges for a unit the request does not have.
    Reply cycle = post(server, "/v1/requests", "{\"units\": [{\"name\": \"a\", \"to\": 10, \"dependsOn\": [\"b\"]},"
        + " {\"name\": \"b\", \"from\": 10, \"to\": 20, \"dependsOn\": [\"a\"]}]}");
    assertThat(cycle.status()).isEqualTo(400);
    assertThat(cycle.json().get("field").asText()).isEqualTo("units");
    assertThat(cycle.json().get("error").asText()).contains("cycle");
    Reply stranger = post(server, "/v1/requests",
        "{\"units\": [{\"name\": \"u\", \"to\": 100}], \"ranges\": {\"u\": [[0, 100]], \"zz\": [[0, 5]]}}");
    assertThat(stranger.status()).as(stranger.body()).isEqualTo(400);
    assertThat(stranger.json().get("field").asText()).isEqualTo("ranges");
    assertThat(stranger.json().get("error").asText()).contains("zz");
    assertError(post(server, "/v1/requests", "{\"kind\": \"tpch\"}"), 503, "kind", "tpch");
    assertError(post(server, "/v1/requests", "{\"units\": [{\"to\": 10}], \"surprise\": 1}"), 400, "surprise", "surprise");
    assertThat(server.ledger().snapshot().reservations()).hasSize((int) reservationsBefore);
    assertThat(get(server, "/v1/requests/nope").status()).isEqualTo(404);
  }

  @Test
  void aCancelledRequestStopsAndReleasesEverythingItHolds() throws Exception {
    // 100,000 keys at 200 us in 2 shards on 4 cores: about 10 s if nothing stops it (a first answer of a server on a
    // loaded machine can take seconds).
    Reply r = post(server, "/v1/requests",
        "{\"id\": \"to-cancel\", \"policy\": \"key-range\", \"shards\": 2, \"units\": [{\"to\": 100000}]}");
    assertThat(r.status()).as(r.body()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
        .until(() -> get(server, "/v1/requests/to-cancel").json().get("shardList").findValuesAsText("state")
            .contains("running"));
    // The pools panel's view counts its shards running on the standard pool.
    JsonNode standard = get(server, "/v1/shard/pools").json().get("priorities").get(1);
    assertThat(standard.get("priority").asText()).isEqualTo("standard");
    assertThat(standard.get("runningShards").asInt() + standard.get("queuedShards").asInt()).as(standard.toString())
        .isPositive();
    Reply c = TestServers.delete(server, "/v1/requests/to-cancel");
    assertThat(c.status()).as(c.body()).isEqualTo(200);
    assertThat(c.json().get("state").asText()).isEqualTo("cancelled");
    assertThat(get(server, "/v1/requests/to-cancel").json().get("state").asText()).isEqualTo("cancelled");
    await().atMost(Duration.ofSeconds(5)).until(() -> liveShardReservations() == 0);
    assertError(TestServers.delete(server, "/v1/requests/to-cancel"), 409, "id", "to-cancel");
    // Its running attempts were given up and counted.
    assertThat(get(server, "/metrics").body())
        .containsPattern("penumbra_shard_attempts_cancelled_total(\\{[^}]*\\})? [1-9]");
    assertError(TestServers.delete(server, "/v1/requests/nope"), 404, "id", "nope");
  }

  @Test
  void thePoolsViewShowsEveryPriorityPoolAndTheRecentShardsPredictedAgainstActual() throws Exception {
    assertThat(post(server, "/v1/requests", "{\"id\": \"pooled\", \"priority\": \"batch\", \"policy\": \"key-range\","
        + " \"shards\": 4, \"units\": [{\"to\": 2000}]}").status()).isEqualTo(202);
    assertThat(finished("pooled").get("state").asText()).isEqualTo("done");
    JsonNode p = get(server, "/v1/shard/pools").json();
    assertThat(p.get("transport").asText()).isEqualTo("in-process");
    assertThat(p.get("priorities")).extracting(pr -> pr.get("priority").asText())
        .containsExactly("critical", "standard", "batch");
    for (JsonNode pr : p.get("priorities")) {
      // In-process, the ledger's node serves every priority with a pool of its 4 cores' threads.
      assertThat(pr.get("pools")).hasSize(1);
      JsonNode pool = pr.get("pools").get(0);
      assertThat(pool.get("workers").asInt()).isEqualTo(4);
      assertThat(pool.get("workersAlive").asInt()).isEqualTo(4);
      assertThat(pool.get("alive").asBoolean()).isTrue();
      assertThat(pool.get("utilization").asDouble()).isBetween(0.0, 1.0);
    }
    JsonNode pooled = null;
    for (JsonNode r : p.get("recent")) {
      if (r.get("id").asText().equals("pooled")) {
        pooled = r;
      }
    }
    assertThat(pooled).as(p.toString()).isNotNull();
    assertThat(pooled.get("priority").asText()).isEqualTo("batch");
    assertThat(pooled.get("shards")).hasSize(4);
    for (JsonNode s : pooled.get("shards")) {
      assertThat(s.get("predictedP50Millis").asDouble()).isPositive();
      assertThat(s.get("ranMillis").asDouble()).isPositive();
      assertThat(s.get("reservedCpuMillis").asLong()).isPositive();
    }
  }

  @Test
  void explicitRangesThatCoverTheUnitRunAsGiven() throws Exception {
    Reply r = post(server, "/v1/requests",
        "{\"id\": \"ranged\", \"units\": [{\"name\": \"u\", \"to\": 100}], \"ranges\": {\"u\": [[0, 30], [30, 100]]}}");
    assertThat(r.status()).as(r.body()).isEqualTo(202);
    JsonNode d = finished("ranged");
    assertThat(d.get("answer").asLong()).isEqualTo(ShardFunctions.expectedSum(KeyRange.of(0, 100)));
    assertThat(d.get("shardList").findValuesAsText("subset")).isEqualTo(List.of("[0, 30)", "[30, 100)"));
    assertThat(post(server, "/v1/requests", "{\"id\": \"ranged\", \"units\": [{\"to\": 10}]}").status())
        .isEqualTo(409);
  }
}
