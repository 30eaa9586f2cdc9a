package dev.penumbra.server;

import static dev.penumbra.server.TestServers.get;
import static dev.penumbra.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.server.TestServers.Reply;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The stream and task routes: happy paths, bad input (4xx naming the field), metrics and the dashboard. */
class StreamTaskApiTest {
  static PenumbraServer server;
  static StreamCapability streams;

  @BeforeAll
  static void start() throws Exception {
    // No query capability (no database to prepare); a long interval so the test drives the ticks itself.
    server = TestServers.started(Map.of("PENUMBRA_QUERY_ENABLED", "false", "PENUMBRA_STREAM_INTERVAL", "1m",
        "PENUMBRA_LEDGER_CORES", "8"));
    streams = (StreamCapability) server.capability("stream").orElseThrow();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void capabilitiesAreRegisteredAndReady() throws Exception {
    JsonNode caps = get(server, "/ready").json().get("capabilities");
    assertThat(caps.has("query")).isFalse();
    assertThat(caps.get("stream").asBoolean()).isTrue();
    assertThat(caps.get("task").asBoolean()).isTrue();
  }

  @Test
  void aDeletedStreamGivesBackItsReservationsAndItsName() throws Exception {
    java.util.Set<Long> before = liveIds();
    Reply created = post(server, "/v1/streams", "{\"name\": \"idle\", \"partitions\": 2}");
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    streams.tickAll();
    java.util.Set<Long> held = liveIds();
    held.removeAll(before);
    assertThat(held).as("the idle stream's reservations").isNotEmpty();
    // Sized to its demand: an idle stream once held 2 x 1000m, the whole node, renewed every tick.
    long cpu = held.stream().mapToLong(id -> server.ledger().get(id).orElseThrow().amount().cpuMillis()).sum();
    assertThat(cpu).as("the idle stream's CPU, millicores").isLessThan(1000);
    Reply deleted = TestServers.delete(server, "/v1/streams/idle");
    assertThat(deleted.status()).as(deleted.body()).isEqualTo(200);
    assertThat(deleted.json().get("released").asInt()).isEqualTo(held.size());
    streams.tickAll();
    assertThat(liveIds()).doesNotContainAnyElementsOf(held);
    assertThat(get(server, "/v1/streams").json().findValuesAsText("name")).doesNotContain("idle");
    assertThat(TestServers.delete(server, "/v1/streams/idle").status()).isEqualTo(404);
    // The name is free again.
    assertThat(post(server, "/v1/streams", "{\"name\": \"idle\"}").status()).isEqualTo(201);
    assertThat(TestServers.delete(server, "/v1/streams/idle").status()).isEqualTo(200);
  }

  static java.util.Set<Long> liveIds() {
    java.util.Set<Long> ids = new java.util.HashSet<>();
    server.ledger().snapshot().reservations().forEach(r -> ids.add(r.id()));
    return ids;
  }

  @Test
  void createProduceAndReadThePlan() throws Exception {
    Reply created = post(server, "/v1/streams", "{\"name\": \"orders\", \"partitions\": 2, \"sampleRate\": 0.5}");
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    assertThat(created.json().get("partitions").asInt()).isEqualTo(2);
    assertThat(get(server, "/v1/streams").json().findValuesAsText("name")).contains("orders");

    Reply produced = post(server, "/v1/streams/orders/records", "{\"records\": [{\"key\": \"a\", \"value\": \"x\"},"
        + " {\"partition\": 1, \"value\": \"yy\"}, {\"partition\": 0, \"key\": \"b\", \"value\": \"zzz\"}]}");
    assertThat(produced.status()).as(produced.body()).isEqualTo(202);
    assertThat(produced.json().get("accepted").asInt()).isEqualTo(3);
    JsonNode parts = get(server, "/v1/streams").json().get(0).get("partitionStats");
    assertThat(parts.get(0).get("submitted").asLong() + parts.get(1).get("submitted").asLong()).isEqualTo(3);

    JsonNode before = get(server, "/v1/streams/orders/plan").json();
    assertThat(before.get("partitions").get(0).get("plannedWorkers").isNull()).isTrue();
    streams.tickAll();
    post(server, "/v1/streams/orders/records", "{\"records\": [{\"value\": \"again\"}]}");
    streams.tickAll();
    Reply plan = get(server, "/v1/streams/orders/plan");
    assertThat(plan.status()).isEqualTo(200);
    JsonNode p0 = plan.json().get("partitions").get(0);
    assertThat(p0.get("plannedWorkers").asInt()).isBetween(1, 8);
    assertThat(p0.get("horizons")).hasSize(2);
    assertThat(p0.get("horizons").get(0).get("horizon").asText()).isEqualTo("PT5M");
    // Every partition holds a live reservation on the server's ledger, sized by its forecast demand: a stream of
    // three records needs far less than the core per worker it used to hold.
    JsonNode res = p0.get("reservation");
    assertThat(res.get("state").asText()).isEqualTo("active");
    assertThat(res.get("amount").get("cpuMillis").asLong()).isBetween(0L, 999L);
    assertThat(server.ledger().snapshot().reservations()).extracting(Reservation::owner)
        .contains("stream/orders/p0", "stream/orders/p1");
    // The loop's baseline guard and shadow budget are reported with the plan.
    assertThat(plan.json().get("guard").get("baseline").asText()).isEqualTo("reactive");
    assertThat(plan.json().get("guard").get("acting").asText()).isIn("penumbra", "baseline");
    assertThat(plan.json().get("shadowBudget").asDouble()).isEqualTo(0.02);
    JsonNode dash = get(server, "/v1/dashboard").json().get("capabilities").get("stream");
    assertThat(dash.get("dimension").asText()).isEqualTo("cpu");
    assertThat(dash.get("samples").size()).isPositive();
    assertThat(dash.get("samples").get(0).get("label").asText()).isEqualTo("orders");
    // The baseline is the stream loop's reactive rule in the same millicores, not a core per partition: a stream of
    // four records needs a sliver of one.
    assertThat(p0.get("baselineCpuMillis").asLong()).isBetween(0L, 999L);
    assertThat(dash.get("samples").get(0).get("baseline").asDouble()).isLessThan(1.0);
    // Each stream is a loop; the dashboard shows which rule of its baseline guard acts.
    JsonNode loop = dash.get("loops").get(0);
    assertThat(loop.get("loop").asText()).contains("orders");
    assertThat(loop.get("acting").asText()).isIn("penumbra", "baseline");
    assertThat(loop.get("baseline").asText()).isNotBlank();
    JsonNode task = get(server, "/v1/dashboard").json().get("capabilities").get("task").get("loops").get(0);
    assertThat(task.get("acting").asText()).isIn("penumbra", "baseline");
  }

  @Test
  void badStreamRequestsNameTheField() throws Exception {
    assertError(post(server, "/v1/streams", "{\"name\": \"s1\", \"partitions\": 0}"), 400, "partitions", "0");
    Reply huge = post(server, "/v1/streams", "{\"name\": \"s1\", \"partitions\": 99999999999999999999}");
    assertError(huge, 400, "partitions", "99999999999999999999");
    assertThat(huge.json().get("error").asText()).contains("[1, 16]");
    assertError(post(server, "/v1/streams", "{\"name\": \"s1\", \"partitions\": 2.5}"), 400, "partitions", "2.5");
    assertError(post(server, "/v1/streams", "{\"name\": \"s1\", \"sampleRate\": 1.5}"), 400, "sampleRate", "1.5");
    assertError(post(server, "/v1/streams", "{\"name\": \"no spaces\"}"), 400, "name", "no spaces");
    assertError(post(server, "/v1/streams", "{\"name\": \"s1\", \"shards\": 3}"), 400, "shards", "shards");
    assertThat(get(server, "/v1/streams").json().findValuesAsText("name")).doesNotContain("s1");

    assertThat(post(server, "/v1/streams", "{\"name\": \"dup\"}").status()).isEqualTo(201);
    assertError(post(server, "/v1/streams", "{\"name\": \"dup\"}"), 409, "name", "dup");

    assertError(post(server, "/v1/streams/dup/records", "{\"records\": [{\"value\": \"ok\"},"
        + " {\"partition\": 5, \"value\": \"x\"}]}"), 400, "records[1].partition", "5");
    assertError(post(server, "/v1/streams/dup/records", "{\"records\": [{\"key\": \"k\"}]}"), 400,
        "records[0].value", "null");
    assertError(post(server, "/v1/streams/dup/records", "{\"records\": []}"), 400, "records", "[]");
    // A rejected batch submits nothing.
    JsonNode dup = get(server, "/v1/streams").json().findParents("name").stream()
        .filter(n -> n.get("name").asText().equals("dup")).findFirst().orElseThrow();
    assertThat(dup.get("partitionStats").get(0).get("submitted").asLong()).isZero();

    assertError(post(server, "/v1/streams/nope/records", "{\"records\": [{\"value\": \"x\"}]}"), 404, "name",
        "nope");
    assertError(get(server, "/v1/streams/nope/plan"), 404, "name", "nope");
  }

  @Test
  void submitAPhasedTaskAndListIt() throws Exception {
    Reply r = post(server, "/v1/tasks", "{\"type\": \"etl\", \"priority\": \"batch\", \"phases\": ["
        + "{\"millis\": 20, \"memory\": \"4MiB\"}, {\"millis\": 30, \"memory\": \"8MiB\", \"threads\": 1},"
        + " {\"millis\": 5}]}");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().get("succeeded").asBoolean()).isTrue();
    String id = r.json().get("taskId").asText();
    assertThat(id).startsWith("etl");
    assertThat(r.json().get("latencyMillis").asDouble()).isGreaterThanOrEqualTo(55);
    assertThat(r.json().get("phases").asInt()).isEqualTo(3);
    assertThat(get(server, "/v1/tasks").json().findValuesAsText("taskId")).contains(id);
    // The task's end released everything it held.
    assertThat(server.ledger().snapshot().reservations()).extracting(Reservation::owner).doesNotContain(id);
    JsonNode samples = get(server, "/v1/dashboard").json().get("capabilities").get("task").get("samples");
    JsonNode mine = null;
    for (JsonNode s : samples) {
      if (s.get("label").asText().equals(id + "/1")) {
        mine = s;
      }
    }
    assertThat(mine).as("timeline sample of phase 1").isNotNull();
    assertThat(mine.get("actual").asDouble()).isEqualTo(8.0);
    assertThat(mine.get("baseline").asDouble()).isEqualTo(8.0);
    assertThat(mine.get("reserved").asDouble()).isGreaterThanOrEqualTo(8.0);
    assertThat(get(server, "/metrics").body()).contains("penumbra_task_completed_total")
        .contains("penumbra_stream_streams");
  }

  @Test
  void badTaskRequestsNameTheField() throws Exception {
    assertError(post(server, "/v1/tasks", "{\"type\": \"t\", \"phases\": [{\"millis\": 5}, {\"millis\": 0}]}"), 400,
        "phases[1].millis", "0");
    // A number where an integer belongs: the message asks for "an integer", not "a number".
    Reply big = post(server, "/v1/tasks", "{\"type\": \"t\", \"phases\": [{\"millis\": 1e308}]}");
    assertError(big, 400, "phases[0].millis", "1e308");
    assertThat(big.json().get("error").asText()).contains("expected an integer");
    // Past a double's range the echo is what the client wrote, not the Infinity a double would hold.
    Reply huge = post(server, "/v1/tasks", "{\"type\": \"t\", \"phases\": [{\"millis\": 1e400}]}");
    assertError(huge, 400, "phases[0].millis", "1e400");
    assertThat(huge.body()).doesNotContain("Infinity");
    assertError(post(server, "/v1/tasks", "{\"type\": \"t\", \"phases\": [{\"millis\": 5, \"memory\": \"lots\"}]}"),
        400, "phases[0].memory", "lots");
    assertError(post(server, "/v1/tasks", "{\"type\": \"t\", \"phases\": [{\"millis\": 5, \"threads\": 99}]}"), 400,
        "phases[0].threads", "99");
    assertError(post(server, "/v1/tasks", "{\"type\": \"t\", \"priority\": \"urgent\", \"phases\": [{\"millis\": 5}]}"),
        400, "priority", "urgent");
    assertError(post(server, "/v1/tasks", "{\"type\": \"t\", \"phases\": []}"), 400, "phases", "0 phases");
    assertError(post(server, "/v1/tasks", "{\"type\": \"bad type\", \"phases\": [{\"millis\": 5}]}"), 400, "type",
        "bad type");
    assertThat(get(server, "/v1/tasks").json().findValuesAsText("type")).doesNotContain("t", "bad type");
  }

  private static void assertError(Reply r, int status, String field, String value) {
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    assertThat(r.json().get("field").asText()).as(r.body()).isEqualTo(field);
    assertThat(r.json().get("value").asText()).as(r.body()).isEqualTo(value);
    assertThat(r.json().get("error").asText()).as(r.body()).isNotBlank();
  }
}
