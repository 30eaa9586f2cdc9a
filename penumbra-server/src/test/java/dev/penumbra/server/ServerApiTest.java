package dev.penumbra.server;

import static dev.penumbra.server.TestServers.get;
import static dev.penumbra.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.penumbra.server.TestServers.Reply;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ServerApiTest {
  static PenumbraServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServers.started(Map.of("PENUMBRA_SERVER_MAX_BODY_BYTES", "4096"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void healthReadyAndNodes() throws Exception {
    assertThat(get(server, "/health").json().get("status").asText()).isEqualTo("up");
    Reply ready = get(server, "/ready");
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.json().get("capabilities").get("query").asBoolean()).isTrue();
    JsonNode nodes = get(server, "/v1/nodes").json();
    assertThat(nodes).hasSize(1);
    assertThat(nodes.get(0).get("id").asText()).isEqualTo("local");
    assertThat(nodes.get(0).get("capacity").get("memoryBytes").asLong()).isEqualTo(512L << 20);
    assertThat(nodes.get(0).get("capacity").get("cpuMillis").asLong()).isEqualTo(2000);
  }

  /** A query that did not complete is not a 200: the engine's failure is 422, running out of time 504. */
  @Test
  void aQueryThatFailsIsNotAnswered200() throws Exception {
    for (var o : dev.penumbra.query.engine.Outcome.values()) {
      int expected = switch (o) {
        case COMPLETED, SPILLED -> 200;
        case TIMED_OUT -> 504;
        case SQL_ERROR, FAILED_MEMORY -> 422;
      };
      assertThat(QueryCapability.status(o)).as(o.name()).isEqualTo(expected);
    }
    // A statement that binds but fails while it runs (a cast no row survives).
    Reply r = post(server, "/v1/queries", "{\"sql\": \"SELECT CAST(n_name AS INTEGER) AS x FROM nation\"}");
    assertThat(r.status()).as(r.body()).isIn(400, 422);
    assertThat(r.json().get("error").asText()).as(r.body()).isNotBlank();
  }

  @Test
  void queryReturnsRowsAndReportAndIsRecorded() throws Exception {
    Reply r = post(server, "/v1/queries",
        "{\"sql\": \"SELECT n_name FROM nation ORDER BY n_name LIMIT 3\", \"priority\": \"critical\", \"user\": \"ana\"}");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().get("columns").get(0).asText()).isEqualTo("n_name");
    assertThat(r.json().get("rows")).hasSize(3);
    assertThat(r.json().get("rows").get(0).get(0).asText()).isEqualTo("ALGERIA");
    JsonNode rep = r.json().get("report");
    assertThat(rep.get("priority").asText()).isEqualTo("critical");
    assertThat(rep.get("outcome").asText()).isEqualTo("completed");
    long id = rep.get("reservation").get("id").asLong();
    assertThat(rep.get("reservation").get("amount").get("memoryBytes").asLong()).isPositive();
    // The reservation's history: reserved, activated, released; nothing is left live.
    JsonNode res = get(server, "/v1/reservations/" + id).json();
    assertThat(res.get("state").asText()).isEqualTo("released");
    assertThat(res.get("history").findValuesAsText("type")).contains("reserved", "released");
    assertThat(get(server, "/v1/queries").json().findValuesAsText("outcome")).contains("completed");
    // The list shows the statement and the user in their own fields (it once put "anonymous: completed" in sql).
    assertThat(get(server, "/v1/queries").json()).anySatisfy(q -> {
      assertThat(q.get("sql").asText()).isEqualTo("SELECT n_name FROM nation ORDER BY n_name LIMIT 3");
      assertThat(q.get("user").asText()).isEqualTo("ana");
    });
    JsonNode dash = get(server, "/v1/dashboard").json();
    assertThat(dash.get("capabilities").get("query").get("samples").size()).isPositive();
    // Beside the share since start, the share over the last minute (read from the totals on the ledger timer).
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() -> {
      JsonNode q = get(server, "/v1/dashboard").json().get("capabilities").get("query");
      assertThat(q.get("shadowOverhead").isNumber()).as(q.toString()).isTrue();
      assertThat(q.get("shadowOverheadRecent").isNumber()).as(q.toString()).isTrue();
      assertThat(q.get("shadowOverheadRecent").asDouble()).isBetween(0.0, 1e3);
    });
    assertThat(get(server, "/v1/forecasts").json().get("query").get("samples").size()).isPositive();
    assertThat(get(server, "/v1/errors").json().get("query").size()).isPositive();
    String metrics = get(server, "/metrics").body();
    assertThat(metrics).contains("penumbra_reservations{priority=\"critical\",state=\"active\"}")
        .contains("penumbra_node_utilisation{dimension=\"memory\",node=\"local\"}")
        .contains("penumbra_queue_length{capability=\"query\"}")
        .contains("penumbra_shadow_overhead_ratio{capability=\"query\"}")
        .contains("penumbra_prediction_error_mape{capability=\"query\"")
        .contains("penumbra_reservations_ended_total{priority=\"critical\",state=\"released\"}");
  }

  @Test
  void manualReservationLifecycle() throws Exception {
    Reply r = post(server, "/v1/reservations",
        "{\"owner\": \"ext\", \"cpu\": \"500m\", \"memory\": \"64MiB\", \"priority\": \"batch\", \"leaseSeconds\": 30}");
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    long id = r.json().get("id").asLong();
    assertThat(get(server, "/v1/reservations").json().findValuesAsText("owner")).contains("ext");
    assertThat(TestServers.delete(server, "/v1/reservations/" + id).json().get("state").asText()).isEqualTo("released");
    assertError(TestServers.delete(server, "/v1/reservations/" + id), 409, "id", Long.toString(id));
    assertThat(get(server, "/v1/reservations?state=ended").json().findValuesAsText("owner")).contains("ext");
    assertThat(get(server, "/v1/events?limit=5").json().size()).isBetween(1, 5);
  }

  @Test
  void clientMistakesAre4xxNamingFieldAndValue() throws Exception {
    assertError(post(server, "/v1/queries", "{\"sql\": \"SELECT 1\""), 400, "(body)", "");
    assertError(post(server, "/v1/queries", "[1, 2]"), 400, "(body)", "[1,2]");
    assertError(post(server, "/v1/queries", "{\"sql\": \"SELECT 1\", \"colour\": \"red\"}"), 400, "colour", "colour");
    assertError(post(server, "/v1/queries", "{\"sql\": \"SELECT * FROM lineitemz\"}"), 400, "sql",
        "SELECT * FROM lineitemz");
    assertError(post(server, "/v1/queries", "{\"sql\": \"SELEC 1\"}"), 400, "sql", "SELEC 1");
    assertError(post(server, "/v1/queries", "{\"sql\": \"DELETE FROM nation\"}"), 400, "sql", "DELETE FROM nation");
    assertError(post(server, "/v1/queries", "{\"sql\": \" \"}"), 400, "sql", " ");
    assertError(post(server, "/v1/queries", "{\"sql\": \"SELECT 1\", \"priority\": \"urgent\"}"), 400, "priority",
        "urgent");
    assertError(post(server, "/v1/queries", "{\"sql\": \"SELECT 1\", \"deadlineSeconds\": -3}"), 400,
        "deadlineSeconds", "-3.0");
    assertError(post(server, "/v1/queries", "{\"sql\": 42}"), 400, "sql", "42");
    assertError(post(server, "/v1/queries", ""), 400, "(body)", "");
    String big = "{\"sql\": \"SELECT '" + "x".repeat(5000) + "'\"}";
    assertError(post(server, "/v1/queries", big), 413, "(body)", big.length() + " bytes");
    assertError(post(server, "/v1/reservations", "{\"owner\": \"x\", \"memory\": \"-5MiB\"}"), 400, "memory", "-5MiB");
    assertError(post(server, "/v1/reservations", "{\"owner\": \"x\", \"cpu\": \"-1 cores\"}"), 400, "cpu", "-1 cores");
    assertError(post(server, "/v1/reservations", "{\"owner\": \"x\", \"memory\": \"900PiB\"}"), 4, "memory", "900PiB");
    assertError(post(server, "/v1/reservations", "{\"owner\": \"x\", \"cpu\": \"4096 cores\"}"), 422, "cpu",
        "4096 cores");
    assertError(post(server, "/v1/reservations", "{\"owner\": \"x\", \"memory\": \"1MiB\", \"leaseSeconds\": 1e12}"),
        400, "leaseSeconds", "1.0E12");
    assertError(post(server, "/v1/reservations", "{\"owner\": \"x\", \"memory\": \"1MiB\", \"node\": \"mars\"}"), 400,
        "node", "mars");
    assertError(post(server, "/v1/reservations", "{\"memory\": \"1MiB\"}"), 400, "owner", "null");
    assertError(get(server, "/v1/reservations/abc"), 400, "id", "abc");
    assertError(get(server, "/v1/reservations/999999"), 404, "id", "999999");
    assertError(get(server, "/v1/reservations?state=zombie"), 400, "state", "zombie");
    assertError(get(server, "/v1/events?limit=0"), 400, "limit", "0");
    Reply missing = get(server, "/v1/nothing");
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.json().get("error").asText()).contains("/v1/nothing");
    assertThat(server.ledger().snapshot().reservations()).isEmpty();
  }

  @Test
  void everyRouteIsInTheOpenApiFileAndEveryPathIsServed() throws Exception {
    JsonNode doc = get(server, "/v1/openapi.json").json();
    assertThat(doc.get("openapi").asText()).startsWith("3.");
    Set<String> documented = new HashSet<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = doc.get("paths").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> p = it.next();
      p.getValue().fieldNames().forEachRemaining(m -> documented.add(m + " " + p.getKey()));
    }
    Set<String> served = new HashSet<>();
    server.routes().forEach(r -> served.add(r.method() + " " + r.path()));
    assertThat(served).hasSizeGreaterThan(10);
    // The cluster's route exists only on a node started with --cluster (ClusterServerTest checks it there).
    documented.removeIf(r -> r.equals("get /v1/cluster") && !served.contains(r));
    assertThat(documented).isEqualTo(served);
  }

  @Test
  void webjarChartLibraryIsServed() throws Exception {
    Reply page = get(server, "/");
    assertThat(page.status()).isEqualTo(200);
    assertThat(page.body()).contains("/webjars/chart.js/4.5.1/dist/chart.umd.min.js");
    Reply js = TestServers.send(HttpRequest.newBuilder(URI.create(server.url()
        + "/webjars/chart.js/4.5.1/dist/chart.umd.min.js")).GET().build());
    assertThat(js.status()).isEqualTo(200);
    assertThat(js.body().length()).isGreaterThan(100_000);
  }

  /** {@code status} of 4 means any 4xx. */
  static void assertError(Reply r, int status, String field, String value) {
    if (status == 4) {
      assertThat(r.status()).as(r.body()).isBetween(400, 499);
    } else {
      assertThat(r.status()).as(r.body()).isEqualTo(status);
    }
    assertThat(r.json()).as(r.body()).isNotNull();
    assertThat(r.json().get("error").asText()).isNotBlank();
    assertThat(r.json().get("field").asText()).as(r.body()).isEqualTo(field);
    assertThat(r.json().get("value").asText()).as(r.body()).isEqualTo(value);
  }
}
