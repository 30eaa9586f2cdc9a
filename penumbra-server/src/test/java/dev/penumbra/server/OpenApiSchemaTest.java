package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import dev.penumbra.cluster.ClusterStatus;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The hand-written OpenAPI file against the records the routes read and write: for every request body, the
 * document's properties are the record's as Jackson reads them (a renamed or added field fails here), its
 * required fields are among them, its types match the components' and it refuses unknown fields as the strict
 * reader does; every route's response record matches as Jackson writes it (an array's items, an {@code allOf}
 * merged). Nested records (a task's phases, a shard request's units, a batch's records, a query's report) are
 * checked the same way.
 */
class OpenApiSchemaTest {

  /** Every documented operation with a request body, and the record its route reads it into. */
  private static final Map<String, Class<?>> REQUESTS = new LinkedHashMap<>();

  static {
    REQUESTS.put("post /v1/queries", QueryCapability.QueryBody.class);
    REQUESTS.put("post /v1/reservations", ReservationRoutes.ReservationBody.class);
    REQUESTS.put("post /v1/streams", StreamRoutes.CreateBody.class);
    REQUESTS.put("post /v1/streams/{name}/records", StreamRoutes.ProduceBody.class);
    REQUESTS.put("post /v1/tasks", TaskCapability.TaskBodySpec.class);
    REQUESTS.put("post /v1/requests", ShardCapability.RequestBody.class);
    REQUESTS.put("post /v1/failover/nodes", FailoverCapability.NodeBody.class);
    REQUESTS.put("post /v1/failover/nodes/{node}/risk", FailoverCapability.RiskBody.class);
    REQUESTS.put("post /v1/failover/nodes/{node}/promote", FailoverCapability.PromoteBody.class);
    REQUESTS.put("post /v1/shadow-workers", ShadowWire.Hello.class);
  }

  /** Responses written as records, by the operation and status that write them (an array's: its items'). */
  private static final Map<String, Class<?>> RESPONSES = new LinkedHashMap<>();

  static {
    RESPONSES.put("get /v1/cluster 200", ClusterStatus.class);
    RESPONSES.put("get /v1/shard/pools 200", ShardCapability.PoolsView.class);
    RESPONSES.put("get /ready 200", StatusRoutes.Ready.class);
    RESPONSES.put("get /v1/nodes 200", LedgerJson.Node.class);
    RESPONSES.put("post /v1/reservations 201", LedgerJson.Res.class);
    RESPONSES.put("get /v1/reservations/{id} 200", LedgerJson.ResWithHistory.class);
    RESPONSES.put("get /v1/events 200", LedgerJson.Event.class);
    RESPONSES.put("get /v1/dashboard 200", DashboardRoutes.Dashboard.class);
    RESPONSES.put("post /v1/queries 200", QueryCapability.QueryAnswer.class);
    RESPONSES.put("post /v1/queries 422", QueryCapability.QueryAnswer.class);
    RESPONSES.put("get /v1/queries 200", QueryCapability.QueryRecord.class);
    RESPONSES.put("post /v1/tasks 200", TaskCapability.TaskRecord.class);
    RESPONSES.put("post /v1/streams 201", StreamHandle.Description.class);
    RESPONSES.put("post /v1/streams/{name}/records 202", StreamRoutes.Accepted.class);
    RESPONSES.put("get /v1/streams/{name}/plan 200", StreamHandle.PlanJson.class);
    RESPONSES.put("delete /v1/streams/{name} 200", StreamRoutes.Deleted.class);
    RESPONSES.put("post /v1/requests 202", ShardCapability.RequestSummary.class);
    RESPONSES.put("get /v1/requests/{id} 200", ShardCapability.RequestDetail.class);
    RESPONSES.put("get /v1/failover/nodes 200", FailoverCapability.Overview.class);
    RESPONSES.put("post /v1/failover/nodes 201", FailoverCapability.NodeJson.class);
    RESPONSES.put("get /v1/failover/nodes/{node} 200", FailoverCapability.NodeDetail.class);
    RESPONSES.put("post /v1/failover/nodes/{node}/promote 200", FailoverCapability.FailoverJson.class);
  }

  private static JsonNode doc;

  @BeforeAll
  static void read() throws Exception {
    try (InputStream in = Capability.class.getResourceAsStream("openapi.json")) {
      doc = Json.MAPPER.readTree(in);
    }
  }

  private static JsonNode resolve(JsonNode schema) {
    while (schema.has("$ref")) {
      String ref = schema.get("$ref").asText();
      schema = doc.at(ref.substring(1));
      assertThat(schema.isMissingNode()).as(ref).isFalse();
    }
    return schema;
  }

  /** The schema with its references followed and an {@code allOf} merged into one object's properties. */
  private static JsonNode flatten(JsonNode schema) {
    schema = resolve(schema);
    if (!schema.has("allOf")) {
      return schema;
    }
    com.fasterxml.jackson.databind.node.ObjectNode merged = Json.MAPPER.createObjectNode().put("type", "object");
    com.fasterxml.jackson.databind.node.ObjectNode props = merged.putObject("properties");
    com.fasterxml.jackson.databind.node.ArrayNode required = merged.putArray("required");
    for (JsonNode part : schema.get("allOf")) {
      JsonNode f = flatten(part);
      f.path("properties").fields().forEachRemaining(e -> props.set(e.getKey(), e.getValue()));
      f.path("required").forEach(required::add);
    }
    return merged;
  }

  private static JsonNode operation(String key) {
    int sp = key.indexOf(' ');
    return doc.get("paths").get(key.substring(sp + 1)).get(key.substring(0, sp));
  }

  @Test
  void everyDocumentedRequestBodyIsCheckedHere() {
    Set<String> withBody = new TreeSet<>();
    doc.get("paths").fields().forEachRemaining(p -> p.getValue().fields().forEachRemaining(m -> {
      if (m.getValue().has("requestBody")) {
        withBody.add(m.getKey() + " " + p.getKey());
      }
    }));
    assertThat(withBody).isEqualTo(new TreeSet<>(REQUESTS.keySet()));
  }

  @Test
  void requestSchemasAreTheRecordsTheRoutesRead() {
    List<String> problems = new ArrayList<>();
    REQUESTS.forEach((op, type) -> {
      JsonNode schema = operation(op).get("requestBody").get("content").get("application/json").get("schema");
      compare(op, resolve(schema), Json.MAPPER.constructType(type), true, problems);
    });
    assertThat(problems).isEmpty();
  }

  @Test
  void responseSchemasAreTheRecordsTheRoutesWrite() {
    List<String> problems = new ArrayList<>();
    RESPONSES.forEach((key, type) -> {
      int last = key.lastIndexOf(' ');
      JsonNode schema = flatten(operation(key.substring(0, last)).get("responses").get(key.substring(last + 1))
          .get("content").get("application/json").get("schema"));
      if (schema.path("type").asText().equals("array")) {
        schema = flatten(schema.get("items"));
      }
      compare(key, schema, Json.MAPPER.constructType(type), false, problems);
    });
    assertThat(problems).isEmpty();
  }

  @Test
  void aRenamedFieldIsCaught() {
    record Renamed(String sqlText, String user, String priority, Double deadlineSeconds) {}
    List<String> problems = new ArrayList<>();
    JsonNode schema = operation("post /v1/queries").get("requestBody").get("content").get("application/json")
        .get("schema");
    compare("post /v1/queries", resolve(schema), Json.MAPPER.constructType(Renamed.class), true, problems);
    assertThat(problems).anyMatch(p -> p.contains("sqlText")).anyMatch(p -> p.contains("required"));
  }

  /** Compares one object schema with the record {@code type}, recursing into nested records. */
  private static void compare(String where, JsonNode schema, JavaType type, boolean reading, List<String> problems) {
    BeanDescription bean = reading ? Json.MAPPER.getDeserializationConfig().introspect(type)
        : Json.MAPPER.getSerializationConfig().introspect(type);
    Map<String, BeanPropertyDefinition> props = properties(bean, reading);
    Set<String> documented = new TreeSet<>();
    schema.path("properties").fieldNames().forEachRemaining(documented::add);
    if (!documented.equals(new TreeSet<>(props.keySet()))) {
      problems.add(where + ": the document has properties " + documented + ", " + type.getRawClass().getSimpleName()
          + " has " + new TreeSet<>(props.keySet()));
    }
    Set<String> required = new HashSet<>();
    schema.path("required").forEach(r -> required.add(r.asText()));
    for (String r : required) {
      if (!props.containsKey(r)) {
        problems.add(where + ": required field '" + r + "' is not a field of " + type.getRawClass().getSimpleName());
      }
    }
    if (reading && !schema.path("additionalProperties").isBoolean()) {
      problems.add(where + ": the reader refuses unknown fields, so the document must say additionalProperties: false");
    } else if (reading && schema.path("additionalProperties").asBoolean()) {
      problems.add(where + ": additionalProperties is true, but the reader refuses unknown fields");
    }
    for (Map.Entry<String, BeanPropertyDefinition> e : props.entrySet()) {
      JsonNode p = schema.path("properties").path(e.getKey());
      if (p.isMissingNode()) {
        continue;
      }
      p = flatten(p);
      JavaType t = e.getValue().getPrimaryType();
      String expected = jsonType(t);
      String actual = p.path("type").asText();
      if (actual.isEmpty() && !p.has("properties") && !p.has("items")) {
        continue; // the document leaves the value's type open (a shard request's merged answer)
      }
      if (!expected.equals(actual)) {
        problems.add(where + "." + e.getKey() + ": the document says type '" + actual + "', the field is "
            + t.getRawClass().getSimpleName() + " ('" + expected + "')");
        continue;
      }
      JavaType inner = t.isCollectionLikeType() ? t.getContentType() : t;
      JsonNode innerSchema = t.isCollectionLikeType() ? flatten(p.path("items")) : p;
      if (inner.getRawClass().isRecord()) {
        compare(where + "." + e.getKey() + (t.isCollectionLikeType() ? "[]" : ""), innerSchema, inner, reading,
            problems);
      }
    }
  }

  /** The record's properties as they appear in JSON: an {@code @JsonUnwrapped} one's own are in its place. */
  private static Map<String, BeanPropertyDefinition> properties(BeanDescription bean, boolean reading) {
    Map<String, BeanPropertyDefinition> props = new LinkedHashMap<>();
    for (BeanPropertyDefinition p : bean.findProperties()) {
      var member = p.getPrimaryMember();
      if (member != null && member.hasAnnotation(com.fasterxml.jackson.annotation.JsonUnwrapped.class)) {
        JavaType inner = p.getPrimaryType();
        props.putAll(properties(reading ? Json.MAPPER.getDeserializationConfig().introspect(inner)
            : Json.MAPPER.getSerializationConfig().introspect(inner), reading));
      } else {
        props.put(p.getName(), p);
      }
    }
    return props;
  }

  private static String jsonType(JavaType t) {
    Class<?> c = t.getRawClass();
    if (c == String.class || c.isEnum() || c == java.time.Instant.class) {
      return "string";
    }
    if (c == Integer.class || c == int.class || c == Long.class || c == long.class || c == java.math.BigInteger.class) {
      return "integer";
    }
    if (c == Double.class || c == double.class || c == Float.class || c == float.class) {
      return "number";
    }
    if (c == Boolean.class || c == boolean.class) {
      return "boolean";
    }
    if (t.isCollectionLikeType() || t.isArrayType() || Collection.class.isAssignableFrom(c)) {
      return "array";
    }
    return "object";
  }
}
