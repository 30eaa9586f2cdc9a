package dev.penumbra.server;

import static dev.penumbra.server.ServerApiTest.assertError;
import static dev.penumbra.server.TestServers.get;
import static dev.penumbra.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /v1/failover/nodes}: nodes registered over HTTP, and the simulated nodes replaying Backblaze drives. */
class FailoverApiTest {

  static final Path DATA = Path.of(System.getProperty("penumbra.data", "../../shared/data"), "backblaze-2013");

  @TempDir Path dir;

  private static JsonNode awaitNode(PenumbraServer s, String node, String standby) {
    JsonNode[] last = new JsonNode[1];
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      last[0] = get(s, "/v1/failover/nodes/" + node).json();
      return last[0].get("standby").asText().equals(standby);
    });
    return last[0];
  }

  @Test
  void registeredNodeGetsAStandbyAtRiskAndIsPromotedAtThePromoteThreshold() throws Exception {
    // No data: the capability serves nodes registered over HTTP, at the calibrated thresholds 0.5 / 0.7 / 0.9.
    try (PenumbraServer s = TestServers.started(Map.of("PENUMBRA_FAILOVER_DATA", dir.resolve("none").toString(),
        "PENUMBRA_QUERY_ENABLED", "false", "PENUMBRA_STREAM_ENABLED", "false", "PENUMBRA_TASK_ENABLED", "false"))) {
      await().atMost(Duration.ofSeconds(20))
          .until(() -> get(s, "/v1/failover/nodes").json().get("mode").asText().equals("manual"));
      JsonNode overview = get(s, "/v1/failover/nodes").json();
      assertThat(overview.get("message").asText()).contains("no Backblaze data at");
      assertThat(overview.at("/thresholds/source").asText()).isEqualTo("calibrated");
      assertThat(overview.at("/thresholds/provision").asDouble()).isEqualTo(0.7);

      TestServers.Reply r = post(s, "/v1/failover/nodes", "{\"name\":\"db1\"}");
      assertThat(r.status()).as(r.body()).isEqualTo(201);
      assertThat(r.json().get("standby").asText()).isEqualTo("none");
      assertThat(r.json().get("grant").isNull()).isTrue();

      // Below the provision threshold nothing is reserved; at 0.8 a standby is reserved WARM through the loop.
      assertThat(post(s, "/v1/failover/nodes/db1/risk", "{\"risk\":0.3}").json().get("standby").asText())
          .isEqualTo("none");
      post(s, "/v1/failover/nodes/db1/risk", "{\"risk\":0.8}");
      JsonNode warm = awaitNode(s, "db1", "warm");
      assertThat(warm.at("/grant/state").asText()).isEqualTo("warm");
      assertThat(warm.at("/grant/owner").asText()).isEqualTo("standby:db1");

      // At 0.95 the orchestrator moves the work to the standby before any failure; the grant becomes ACTIVE.
      post(s, "/v1/failover/nodes/db1/risk", "{\"risk\":0.95}");
      JsonNode promoted = awaitNode(s, "db1", "promoted");
      assertThat(promoted.get("moves").asInt()).isEqualTo(1);
      assertThat(promoted.at("/grant/state").asText()).isEqualTo("active");
      JsonNode ev = promoted.get("failovers").get(0);
      assertThat(ev.get("cause").asText()).isEqualTo("planned");
      assertThat(ev.get("withStandby").asBoolean()).isTrue();
      assertThat(promoted.get("riskHistory")).hasSize(3);
      // At risk again: a new standby is reserved WARM beside the promoted primary's ACTIVE reservation.
      post(s, "/v1/failover/nodes/db1/risk", "{\"risk\":0.8}");
      assertThat(awaitNode(s, "db1", "warm").at("/grant/state").asText()).isEqualTo("warm");

      // A manual promotion of a node without a standby replaces it.
      post(s, "/v1/failover/nodes", "{\"name\":\"db2\"}");
      TestServers.Reply moved = post(s, "/v1/failover/nodes/db2/promote", "{}");
      assertThat(moved.status()).as(moved.body()).isEqualTo(200);
      assertThat(moved.json().get("withStandby").asBoolean()).isFalse();
      assertThat(get(s, "/v1/failover/nodes").json().get("failovers")).hasSize(2);
      assertThat(get(s, "/metrics").body()).contains("penumbra_failover_moves_total 2.0");
    }
  }

  @Test
  void badInputIsRefusedNamingFieldAndValueAndChangesNothing() throws Exception {
    try (PenumbraServer s = TestServers.started(Map.of("PENUMBRA_FAILOVER_DATA", "",
        "PENUMBRA_QUERY_ENABLED", "false", "PENUMBRA_STREAM_ENABLED", "false", "PENUMBRA_TASK_ENABLED", "false"))) {
      await().atMost(Duration.ofSeconds(20))
          .until(() -> get(s, "/v1/failover/nodes").json().get("mode").asText().equals("manual"));
      post(s, "/v1/failover/nodes", "{\"name\":\"db1\"}");
      assertError(post(s, "/v1/failover/nodes/db1/risk", "{\"risk\":1.5}"), 400, "risk", "1.5");
      assertError(post(s, "/v1/failover/nodes/db1/risk", "{\"risk\":-0.1}"), 400, "risk", "-0.1");
      assertError(post(s, "/v1/failover/nodes/db1/risk", "{}"), 400, "risk", "null");
      assertError(post(s, "/v1/failover/nodes/db1/risk", "{\"risk\":\"high\"}"), 400, "risk", "\"high\"");
      assertError(post(s, "/v1/failover/nodes/nope/risk", "{\"risk\":0.5}"), 404, "node", "nope");
      assertError(post(s, "/v1/failover/nodes/nope/promote", "{}"), 404, "node", "nope");
      assertError(post(s, "/v1/failover/nodes/db1/promote", "{\"now\":true}"), 400, "now", "now");
      assertError(get(s, "/v1/failover/nodes/nope"), 404, "node", "nope");
      assertError(post(s, "/v1/failover/nodes", "{\"name\":\"Bad Name\"}"), 400, "name", "Bad Name");
      assertError(post(s, "/v1/failover/nodes", "{}"), 400, "name", "null");
      assertError(post(s, "/v1/failover/nodes", "{\"name\":\"db1\"}"), 409, "name", "db1");
      JsonNode db1 = get(s, "/v1/failover/nodes/db1").json();
      assertThat(db1.get("riskHistory")).isEmpty();
      assertThat(get(s, "/v1/failover/nodes").json().get("nodes")).hasSize(1);
    }
  }

  @Test
  void simulatedNodesReplayBackblazeDrivesAndFailuresAreDetected() throws Exception {
    assumeTrue(Files.isDirectory(DATA), "Backblaze data absent at " + DATA + ": skipping the simulated nodes test");
    // Ten days (six train, four replayed; failures on 04-16 and 19) keep the test short.
    Path days = Files.createDirectories(dir.resolve("days"));
    List<Path> files;
    try (Stream<Path> l = Files.list(DATA)) {
      files = l.filter(p -> p.getFileName().toString().matches("2013-04-(1[2-9]|2[01])\\.csv\\.gz")).sorted().toList();
    }
    assertThat(files).hasSize(10);
    for (Path f : files) {
      Files.createSymbolicLink(days.resolve(f.getFileName()), f.toAbsolutePath());
    }
    try (PenumbraServer s = TestServers.started(Map.of("PENUMBRA_FAILOVER_DATA", days.toString(),
        "PENUMBRA_FAILOVER_NODES", "4", "PENUMBRA_FAILOVER_DAY_EVERY", "100ms",
        "PENUMBRA_QUERY_ENABLED", "false", "PENUMBRA_STREAM_ENABLED", "false", "PENUMBRA_TASK_ENABLED", "false"))) {
      await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
          .until(() -> List.of("simulated", "failed").contains(get(s, "/v1/failover/nodes").json().get("mode").asText()));
      JsonNode o = get(s, "/v1/failover/nodes").json();
      assertThat(o.get("mode").asText()).as(o.toString()).isEqualTo("simulated");
      assertThat(o.at("/thresholds/source").asText()).isEqualTo("alarm-rate");
      assertThat(o.at("/model/horizonDays").asInt()).isEqualTo(3);
      assertThat(o.get("nodes")).hasSize(4);
      o.get("nodes").forEach(n -> assertThat(n.get("drive").asText()).isNotBlank());
      // Half the drives fail on a replayed day: their nodes' health checks fail and the orchestrator moves them.
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        JsonNode fo = get(s, "/v1/failover/nodes").json().get("failovers");
        for (JsonNode e : fo) {
          if (e.get("cause").asText().equals("detected") && !e.get("detectionMillis").isNull()) {
            return true;
          }
        }
        return false;
      });
      // A node whose work moved runs on new hardware: it replays another, healthy drive from then on.
      Map<String, String> firstDrives = new java.util.HashMap<>();
      o.get("nodes").forEach(n -> firstDrives.put(n.get("name").asText(), n.get("drive").asText()));
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        for (JsonNode n : get(s, "/v1/failover/nodes").json().get("nodes")) {
          if (n.get("moves").asInt() > 0 && !n.get("drive").asText().equals(firstDrives.get(n.get("name").asText()))) {
            return true;
          }
        }
        return false;
      });
      JsonNode risk = get(s, "/v1/failover/nodes/node1").json().get("riskHistory");
      assertThat(risk.size()).isPositive();
      risk.forEach(p -> assertThat(p.get("risk").asDouble()).isBetween(0.0, 1.0));
      JsonNode dash = get(s, "/v1/dashboard").json().at("/capabilities/failover");
      assertThat(dash.get("unit").asText()).isEqualTo("nodes");
      assertThat(dash.get("samples").size()).isPositive();
      assertThat(get(s, "/v1/errors").json().get("failover").size()).isPositive();
    }
  }
}
