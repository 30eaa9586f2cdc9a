package dev.penumbra.server;

import static dev.penumbra.server.TestServers.delete;
import static dev.penumbra.server.TestServers.get;
import static dev.penumbra.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the routes really answer against the OpenAPI file's response schemas, for the responses built field by
 * field (most of them): on a running server, one successful call of every documented operation, each answer
 * checked against its status's schema — every field it writes is documented (a renamed one fails), every required
 * one is there, and types and enumerations match. Operations not called here are named, so a new one is noticed.
 */
class OpenApiResponsesTest {

  private static PenumbraServer server;
  private static JsonNode doc;
  private static final List<String> problems = new ArrayList<>();
  private static final Set<String> checked = new TreeSet<>();

  @BeforeAll
  static void start() throws Exception {
    Path none = Files.createTempDirectory("penumbra-openapi").resolve("none");
    server = TestServers.started(Map.of("PENUMBRA_FAILOVER_DATA", none.toString()));
    doc = get(server, "/v1/openapi.json").json();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** Checks that {@code op} answered {@code status} without a body, as the document says it does. */
  private static void noBody(String op, int status, TestServers.Reply r) {
    assertThat(r.status()).as(op + ": " + r.body()).isEqualTo(status);
    int sp = op.indexOf(' ');
    JsonNode response = doc.get("paths").get(op.substring(sp + 1)).get(op.substring(0, sp)).get("responses")
        .get(Integer.toString(status));
    assertThat(response).as(op + " documents " + status).isNotNull();
    assertThat(response.has("content")).as(op + " documents no body at " + status).isFalse();
    checked.add(op);
  }

  /** Checks {@code r} (expected {@code status}) against the document's schema of {@code op} at that status. */
  private static JsonNode check(String op, int status, TestServers.Reply r) {
    assertThat(r.status()).as(op + ": " + r.body()).isEqualTo(status);
    int sp = op.indexOf(' ');
    JsonNode schema = doc.get("paths").get(op.substring(sp + 1)).get(op.substring(0, sp)).get("responses")
        .get(Integer.toString(status)).path("content").path("application/json").path("schema");
    assertThat(schema.isMissingNode()).as(op + " documents a JSON body at " + status).isFalse();
    validate(op, schema, r.json());
    checked.add(op);
    return r.json();
  }

  private static JsonNode resolve(JsonNode s) {
    while (s.has("$ref")) {
      s = doc.at(s.get("$ref").asText().substring(1));
    }
    return s;
  }

  private static void validate(String where, JsonNode schema, JsonNode v) {
    schema = resolve(schema);
    if (v == null || v.isNull()) {
      if (!schema.path("nullable").asBoolean()) {
        problems.add(where + ": null, but the document does not say nullable");
      }
      return;
    }
    String type = schema.path("type").asText("");
    switch (type) {
      case "object" -> {
        if (!v.isObject()) {
          problems.add(where + ": expected an object, was " + v.getNodeType());
          return;
        }
        JsonNode props = schema.path("properties");
        JsonNode extra = schema.path("additionalProperties");
        schema.path("required").forEach(r -> {
          if (!v.has(r.asText())) {
            problems.add(where + ": required field '" + r.asText() + "' is missing");
          }
        });
        v.fields().forEachRemaining(f -> {
          if (props.has(f.getKey())) {
            validate(where + "." + f.getKey(), props.get(f.getKey()), f.getValue());
          } else if (extra.isObject()) {
            validate(where + "[" + f.getKey() + "]", extra, f.getValue());
          } else if (props.size() > 0 || extra.isBoolean() && !extra.asBoolean()) {
            // A documented object lists what it writes: an undocumented (or renamed) field is a finding.
            problems.add(where + ": field '" + f.getKey() + "' is not in the document");
          }
        });
      }
      case "array" -> {
        if (!v.isArray()) {
          problems.add(where + ": expected an array, was " + v.getNodeType());
          return;
        }
        for (int i = 0; i < v.size(); i++) {
          validate(where + "[" + i + "]", schema.path("items"), v.get(i));
        }
      }
      case "string" -> {
        if (!v.isTextual()) {
          problems.add(where + ": expected a string, was " + v.getNodeType() + " " + v);
        } else if (schema.has("enum")) {
          Set<String> allowed = new HashSet<>();
          schema.get("enum").forEach(e -> allowed.add(e.asText()));
          if (!allowed.contains(v.asText())) {
            problems.add(where + ": '" + v.asText() + "' is not one of " + allowed);
          }
        }
      }
      case "integer" -> {
        if (!v.isIntegralNumber()) {
          problems.add(where + ": expected an integer, was " + v);
        }
      }
      case "number" -> {
        if (!v.isNumber()) {
          problems.add(where + ": expected a number, was " + v);
        }
      }
      case "boolean" -> {
        if (!v.isBoolean()) {
          problems.add(where + ": expected a boolean, was " + v);
        }
      }
      default -> {
        // No type: any value (e.g. a shard's result).
      }
    }
  }

  @Test
  void everyRouteAnswersAsItsSchemaSays() throws Exception {
    check("get /health", 200, get(server, "/health"));
    check("get /ready", 200, get(server, "/ready"));
    check("get /v1/nodes", 200, get(server, "/v1/nodes"));

    JsonNode held = check("post /v1/reservations", 201, post(server, "/v1/reservations",
        "{\"owner\": \"schema\", \"cpu\": \"250m\", \"memory\": \"16MiB\", \"priority\": \"batch\"}"));
    long id = held.get("id").asLong();
    check("get /v1/reservations", 200, get(server, "/v1/reservations"));
    check("get /v1/reservations/{id}", 200, get(server, "/v1/reservations/" + id));
    check("delete /v1/reservations/{id}", 200, delete(server, "/v1/reservations/" + id));
    check("get /v1/events", 200, get(server, "/v1/events"));

    check("post /v1/queries", 200, post(server, "/v1/queries", "{\"sql\": \"SELECT count(*) FROM nation\"}"));
    check("get /v1/queries", 200, get(server, "/v1/queries"));

    check("post /v1/tasks", 200, post(server, "/v1/tasks",
        "{\"type\": \"schema\", \"phases\": [{\"millis\": 5, \"memory\": \"1MiB\"}]}"));
    check("get /v1/tasks", 200, get(server, "/v1/tasks"));

    check("post /v1/streams", 201, post(server, "/v1/streams", "{\"name\": \"schema\", \"partitions\": 2}"));
    check("post /v1/streams/{name}/records", 202, post(server, "/v1/streams/schema/records",
        "{\"records\": [{\"key\": \"a\", \"value\": \"x\"}, {\"partition\": 1, \"value\": \"y\"}]}"));
    check("get /v1/streams", 200, get(server, "/v1/streams"));
    // After the first tick the plan has every field it can have (before it, the planned ones are null).
    await().atMost(Duration.ofSeconds(20)).until(() -> !get(server, "/v1/streams/schema/plan").json()
        .at("/partitions/0/plannedWorkers").isNull());
    check("get /v1/streams/{name}/plan", 200, get(server, "/v1/streams/schema/plan"));

    JsonNode req = check("post /v1/requests", 202, post(server, "/v1/requests",
        "{\"policy\": \"key-range\", \"shards\": 2, \"units\": [{\"name\": \"scan\", \"from\": 0, \"to\": 40}]}"));
    String rid = req.get("id").asText();
    await().atMost(Duration.ofSeconds(30))
        .until(() -> !get(server, "/v1/requests/" + rid).json().get("state").asText().equals("running"));
    check("get /v1/requests/{id}", 200, get(server, "/v1/requests/" + rid));
    check("get /v1/requests", 200, get(server, "/v1/requests"));
    JsonNode pools = check("get /v1/shard/pools", 200, get(server, "/v1/shard/pools"));
    assertThat(pools.get("recent")).isNotEmpty();
    // 99,000 keys at 200 µs each: still running when it is cancelled a moment later.
    JsonNode slow = check("post /v1/requests", 202, post(server, "/v1/requests",
        "{\"policy\": \"key-range\", \"shards\": 2, \"units\": [{\"name\": \"scan\", \"from\": 0, \"to\": 99000}]}"));
    check("delete /v1/requests/{id}", 200, delete(server, "/v1/requests/" + slow.get("id").asText()));

    // A worker registered by hand (nothing listens at its URL; a shadow sent there would fall back locally).
    var q = server.config().query();
    check("post /v1/shadow-workers", 200, post(server, "/v1/shadow-workers", "{\"id\": \"schema\", \"url\": "
        + "\"http://127.0.0.1:9\", \"scale\": " + q.scale() + ", \"seed\": " + QueryCapability.TPCH_SEED
        + ", \"slots\": 1}"));
    check("get /v1/shadow-workers", 200, get(server, "/v1/shadow-workers"));
    noBody("delete /v1/shadow-workers/{id}", 204, delete(server, "/v1/shadow-workers/schema"));

    await().atMost(Duration.ofSeconds(20))
        .until(() -> get(server, "/v1/failover/nodes").json().get("mode").asText().equals("manual"));
    check("get /v1/failover/nodes", 200, get(server, "/v1/failover/nodes"));
    check("post /v1/failover/nodes", 201, post(server, "/v1/failover/nodes", "{\"name\": \"db1\"}"));
    check("post /v1/failover/nodes/{node}/risk", 200, post(server, "/v1/failover/nodes/db1/risk", "{\"risk\": 0.3}"));
    check("get /v1/failover/nodes/{node}", 200, get(server, "/v1/failover/nodes/db1"));
    check("post /v1/failover/nodes/{node}/promote", 200, post(server, "/v1/failover/nodes/db1/promote", "{}"));

    check("get /v1/errors", 200, get(server, "/v1/errors"));
    check("get /v1/forecasts", 200, get(server, "/v1/forecasts"));
    check("get /v1/dashboard", 200, get(server, "/v1/dashboard"));
    check("delete /v1/streams/{name}", 200, delete(server, "/v1/streams/schema"));

    assertThat(problems).isEmpty();
    // Not JSON (the page, the metrics, the document itself) or only on a cluster node (ClusterServerTest).
    Set<String> documented = new TreeSet<>();
    doc.get("paths").fields().forEachRemaining(p -> p.getValue().fieldNames()
        .forEachRemaining(m -> documented.add(m + " " + p.getKey())));
    documented.removeAll(checked);
    assertThat(documented).containsExactlyInAnyOrder("get /", "get /metrics", "get /v1/openapi.json",
        "get /v1/cluster");
  }
}
