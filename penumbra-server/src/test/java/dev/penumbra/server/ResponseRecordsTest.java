package dev.penumbra.server;

import static dev.penumbra.server.TestServers.delete;
import static dev.penumbra.server.TestServers.get;
import static dev.penumbra.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.penumbra.core.feedback.ErrorStats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every route family's answers read back into the records the routes write them from, and written again by the
 * one mapper: the same document must come out. A key the record does not have fails the read (unknown fields are
 * refused), a record field the answer lacks comes back as an extra key, a changed type or value as a difference.
 * The one leniency: a NaN is written as null, which reads back into a primitive as 0.
 */
class ResponseRecordsTest {

  private static PenumbraServer server;

  /** The one mapper's strict reader, except that null (a NaN written) may fill a primitive. */
  private static final ObjectReader READER = Json.MAPPER.reader()
      .without(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  @BeforeAll
  static void start() throws Exception {
    Path none = Files.createTempDirectory("penumbra-records").resolve("none");
    server = TestServers.started(Map.of("PENUMBRA_FAILOVER_DATA", none.toString()));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** Reads {@code sent} as {@code type}, writes it again and requires the same document; returns the value. */
  static <T> T roundTrip(String what, JsonNode sent, TypeReference<T> type) throws Exception {
    T value = READER.forType(Json.MAPPER.getTypeFactory().constructType(type)).readValue(sent);
    JsonNode again = Json.MAPPER.readTree(Json.MAPPER.writeValueAsString(value));
    List<String> differences = new ArrayList<>();
    compare(what, sent, again, differences);
    assertThat(differences).as(what).isEmpty();
    return value;
  }

  private static void compare(String at, JsonNode sent, JsonNode again, List<String> out) {
    if (sent.isNull() && again != null && (again.isNumber() || again.isBoolean())) {
      return;
    }
    if (again == null || sent.getNodeType() != again.getNodeType()) {
      out.add(at + ": sent " + sent + ", written again " + again);
    } else if (sent.isObject()) {
      TreeSet<String> keys = new TreeSet<>();
      sent.fieldNames().forEachRemaining(keys::add);
      again.fieldNames().forEachRemaining(keys::add);
      for (String k : keys) {
        if (!sent.has(k)) {
          out.add(at + "." + k + ": not sent, but a field of the record");
        } else {
          compare(at + "." + k, sent.get(k), again.get(k), out);
        }
      }
    } else if (sent.isArray()) {
      if (sent.size() != again.size()) {
        out.add(at + ": " + sent.size() + " items sent, " + again.size() + " written again");
      } else {
        for (int i = 0; i < sent.size(); i++) {
          compare(at + "[" + i + "]", sent.get(i), again.get(i), out);
        }
      }
    } else if (sent.isNumber() ? sent.asDouble() != again.asDouble() : !sent.equals(again)) {
      out.add(at + ": sent " + sent + ", written again " + again);
    }
  }

  @Test
  void aMissingOrExtraFieldIsCaught() {
    record Partial(long id, String owner) {}
    record Wider(long id, String owner, String extra) {}
    JsonNode sent = Json.MAPPER.createObjectNode().put("id", 1).put("owner", "a").put("node", "n");
    assertThatThrownBy(() -> roundTrip("partial", sent, new TypeReference<Partial>() {}))
        .hasMessageContaining("node");
    JsonNode narrow = Json.MAPPER.createObjectNode().put("id", 1).put("owner", "a");
    assertThatThrownBy(() -> roundTrip("wider", narrow, new TypeReference<Wider>() {}))
        .hasMessageContaining("extra");
  }

  @Test
  void statusRoutes() throws Exception {
    var ready = roundTrip("ready", get(server, "/ready").json(), new TypeReference<StatusRoutes.Ready>() {});
    assertThat(ready.capabilities()).containsKeys("query", "stream", "task");
  }

  @Test
  void ledgerRoutes() throws Exception {
    roundTrip("nodes", get(server, "/v1/nodes").json(), new TypeReference<List<LedgerJson.Node>>() {});
    var held = roundTrip("reserve", post(server, "/v1/reservations",
        "{\"owner\": \"records\", \"cpu\": \"250m\", \"memory\": \"16MiB\", \"priority\": \"batch\"}").json(),
        new TypeReference<LedgerJson.Res>() {});
    assertThat(held.owner()).isEqualTo("records");
    roundTrip("reservations", get(server, "/v1/reservations").json(), new TypeReference<List<LedgerJson.Res>>() {});
    var detail = roundTrip("reservation", get(server, "/v1/reservations/" + held.id()).json(),
        new TypeReference<LedgerJson.ResWithHistory>() {});
    assertThat(detail.history()).isNotEmpty();
    var released = roundTrip("release", delete(server, "/v1/reservations/" + held.id()).json(),
        new TypeReference<LedgerJson.Res>() {});
    assertThat(released.state()).isEqualTo("released");
    roundTrip("ended", get(server, "/v1/reservations?state=ended").json(),
        new TypeReference<List<LedgerJson.Res>>() {});
    var events = roundTrip("events", get(server, "/v1/events").json(), new TypeReference<List<LedgerJson.Event>>() {});
    assertThat(events).anyMatch(e -> e.reservation() != null && e.reservation().id() == held.id());
  }

  @Test
  void taskRoutes() throws Exception {
    var done = roundTrip("task", post(server, "/v1/tasks",
        "{\"type\": \"records\", \"phases\": [{\"millis\": 5, \"memory\": \"1MiB\"}]}").json(),
        new TypeReference<TaskCapability.TaskRecord>() {});
    assertThat(done.succeeded()).isTrue();
    roundTrip("tasks", get(server, "/v1/tasks").json(), new TypeReference<List<TaskCapability.TaskRecord>>() {});
  }

  @Test
  void queryRoutes() throws Exception {
    var answer = roundTrip("query", post(server, "/v1/queries",
        "{\"sql\": \"SELECT n_name, n_nationkey FROM nation ORDER BY n_nationkey LIMIT 3\"}").json(),
        new TypeReference<QueryCapability.QueryAnswer>() {});
    assertThat(answer.rowCount()).isEqualTo(3);
    assertThat(answer.status()).isNull();
    roundTrip("queries", get(server, "/v1/queries").json(),
        new TypeReference<List<QueryCapability.QueryRecord>>() {});
  }

  @Test
  void streamRoutes() throws Exception {
    roundTrip("create", post(server, "/v1/streams", "{\"name\": \"records\", \"partitions\": 2}").json(),
        new TypeReference<StreamHandle.Description>() {});
    var accepted = roundTrip("produce", post(server, "/v1/streams/records/records",
        "{\"records\": [{\"key\": \"a\", \"value\": \"x\"}, {\"partition\": 1, \"value\": \"y\"}]}").json(),
        new TypeReference<StreamRoutes.Accepted>() {});
    assertThat(accepted.accepted()).isEqualTo(2);
    roundTrip("streams", get(server, "/v1/streams").json(), new TypeReference<List<StreamHandle.Description>>() {});
    await().atMost(Duration.ofSeconds(20)).until(() -> !get(server, "/v1/streams/records/plan").json()
        .at("/partitions/0/plannedWorkers").isNull());
    var plan = roundTrip("plan", get(server, "/v1/streams/records/plan").json(),
        new TypeReference<StreamHandle.PlanJson>() {});
    assertThat(plan.partitions()).hasSize(2);
    assertThat(plan.partitions().get(0).horizons()).isNotEmpty();
    roundTrip("delete", delete(server, "/v1/streams/records").json(), new TypeReference<StreamRoutes.Deleted>() {});
  }

  @Test
  void shardRoutes() throws Exception {
    var req = roundTrip("submit", post(server, "/v1/requests",
        "{\"policy\": \"key-range\", \"shards\": 2, \"units\": [{\"name\": \"scan\", \"from\": 0, \"to\": 40}]}")
        .json(), new TypeReference<ShardCapability.RequestSummary>() {});
    await().atMost(Duration.ofSeconds(30))
        .until(() -> !get(server, "/v1/requests/" + req.id()).json().get("state").asText().equals("running"));
    var detail = roundTrip("request", get(server, "/v1/requests/" + req.id()).json(),
        new TypeReference<ShardCapability.RequestDetail>() {});
    assertThat(detail.shardList()).hasSize(detail.shards());
    roundTrip("requests", get(server, "/v1/requests").json(),
        new TypeReference<List<ShardCapability.RequestSummary>>() {});
    roundTrip("pools", get(server, "/v1/shard/pools").json(), new TypeReference<ShardCapability.PoolsView>() {});
  }

  @Test
  void failoverRoutes() throws Exception {
    await().atMost(Duration.ofSeconds(20))
        .until(() -> get(server, "/v1/failover/nodes").json().get("mode").asText().equals("manual"));
    roundTrip("overview", get(server, "/v1/failover/nodes").json(),
        new TypeReference<FailoverCapability.Overview>() {});
    roundTrip("register", post(server, "/v1/failover/nodes", "{\"name\": \"rec1\"}").json(),
        new TypeReference<FailoverCapability.NodeJson>() {});
    var risky = roundTrip("risk", post(server, "/v1/failover/nodes/rec1/risk", "{\"risk\": 0.3}").json(),
        new TypeReference<FailoverCapability.NodeJson>() {});
    assertThat(risky.risk()).isEqualTo(0.3);
    assertThat(risky.primary()).as("the simulated driver runs no server").isNull();
    var moved = roundTrip("promote", post(server, "/v1/failover/nodes/rec1/promote", "{}").json(),
        new TypeReference<FailoverCapability.FailoverJson>() {});
    assertThat(moved.node()).isEqualTo("rec1");
    var detail = roundTrip("node", get(server, "/v1/failover/nodes/rec1").json(),
        new TypeReference<FailoverCapability.NodeDetail>() {});
    assertThat(detail.node().name()).isEqualTo("rec1");
    assertThat(detail.riskHistory()).isNotEmpty();
    assertThat(detail.failovers()).isNotEmpty();
    var overview = roundTrip("overview after", get(server, "/v1/failover/nodes").json(),
        new TypeReference<FailoverCapability.Overview>() {});
    assertThat(overview.nodes()).anyMatch(n -> n.name().equals("rec1") && n.recentRisk() != null);
  }

  @Test
  void dashboardRoutes() throws Exception {
    post(server, "/v1/tasks", "{\"type\": \"records\", \"phases\": [{\"millis\": 5, \"memory\": \"1MiB\"}]}");
    var dash = roundTrip("dashboard", get(server, "/v1/dashboard").json(),
        new TypeReference<DashboardRoutes.Dashboard>() {});
    assertThat(dash.capabilities()).containsKeys("query", "stream", "task");
    assertThat(dash.capabilities().get("task").samples()).isNotEmpty();
    roundTrip("forecasts", get(server, "/v1/forecasts").json(),
        new TypeReference<Map<String, DashboardRoutes.TimelineJson>>() {});
    roundTrip("errors", get(server, "/v1/errors").json(), new TypeReference<Map<String, List<ErrorStats>>>() {});
  }
}
