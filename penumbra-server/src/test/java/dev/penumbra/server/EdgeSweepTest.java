package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.core.ledger.LedgerEvent;
import dev.penumbra.server.TestServers.Reply;
import java.io.ByteArrayInputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every route of the OpenAPI document, read from the document the server serves (a route added there is swept
 * without touching this test), probed as a hostile client would: malformed JSON, {@code null}, wrong types,
 * missing fields, negative/NaN/huge numbers, unknown enum values, 1 MB bodies, wrong content types and methods,
 * foreign Origin and Host. Every answer must be a 4xx JSON error naming the field (and the value where one was
 * sent), and the state — live reservations, queries, tasks, streams and what they accepted, ledger events —
 * must be what it was before.
 *
 * <p>Each request body schema carries an {@code example} (a valid request, sent once before the sweep; it must
 * succeed) and each path parameter an {@code example} or a value the examples' responses return under its name.
 */
class EdgeSweepTest {
  static PenumbraServer server;
  static JsonNode doc;
  /** Values for path parameters, from the examples' responses (e.g. the reservation id). */
  static final Map<String, String> pathValues = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    server = TestServers.started(Map.of("PENUMBRA_STREAM_ENABLED", "true", "PENUMBRA_TASK_ENABLED", "true"));
    doc = TestServers.get(server, "/v1/openapi.json").json();
    // The replicated ledger's route exists only on a node started with --cluster (ClusterServerTest checks it there).
    ((com.fasterxml.jackson.databind.node.ObjectNode) doc.get("paths")).remove("/v1/cluster");
    // The valid examples first (routes without path parameters first: they create what the others name).
    List<String[]> posts = new ArrayList<>();
    operations().forEach(op -> {
      if (op[0].equals("post")) {
        posts.add(op);
      }
    });
    posts.sort((a, b) -> Boolean.compare(a[1].contains("{"), b[1].contains("{")));
    for (String[] op : posts) {
      JsonNode schema = bodySchema(op[0], op[1]);
      assertThat(schema.has("example")).as("%s %s: its request schema needs an example", op[0], op[1]).isTrue();
      Reply r = TestServers.post(server, path(op[0], op[1], null), schema.get("example").toString());
      assertThat(r.status()).as("the example of %s %s must be accepted: %s", op[0], op[1], r.body())
          .isBetween(200, 299);
      if (r.json() != null && r.json().isObject()) {
        r.json().fields().forEachRemaining(f -> {
          if (f.getValue().isValueNode()) {
            pathValues.putIfAbsent(f.getKey(), f.getValue().asText());
          }
        });
      }
    }
  }

  /**
   * Waits until the state holds still: work the examples started settles (a stream's first tick reserves its
   * partitions), so what the sweep compares against is not still moving. Two reads a stream interval apart.
   */
  static void awaitSteadyState() {
    java.util.concurrent.atomic.AtomicReference<Map<String, Object>> last = new java.util.concurrent.atomic.AtomicReference<>();
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
        .pollInterval(java.time.Duration.ofMillis(1500)).until(() -> {
          Map<String, Object> now = state();
          return now.equals(last.getAndSet(now));
        });
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** Every (method, path) of the document. */
  static List<String[]> operations() {
    List<String[]> ops = new ArrayList<>();
    doc.get("paths").fields().forEachRemaining(p -> p.getValue().fieldNames()
        .forEachRemaining(m -> ops.add(new String[] {m, p.getKey()})));
    return ops;
  }

  static JsonNode operation(String method, String path) {
    return doc.get("paths").get(path).get(method);
  }

  static JsonNode resolve(JsonNode schema) {
    while (schema != null && schema.has("$ref")) {
      String ref = schema.get("$ref").asText().replace("#/components/schemas/", "");
      schema = doc.get("components").get("schemas").get(ref);
    }
    return schema;
  }

  static JsonNode bodySchema(String method, String path) {
    JsonNode body = operation(method, path).path("requestBody").path("content").path("application/json");
    return body.isMissingNode() ? null : resolve(body.get("schema"));
  }

  /** The path with its parameters filled: {@code override} for the one named, valid values for the rest. */
  static String path(String method, String path, Map<String, String> override) {
    String out = path;
    for (JsonNode p : operation(method, path).path("parameters")) {
      if (!p.get("in").asText().equals("path")) {
        continue;
      }
      String name = p.get("name").asText();
      String value = override != null && override.containsKey(name) ? override.get(name)
          : p.has("example") ? p.get("example").asText() : pathValues.get(name);
      assertThat(value).as("%s %s: path parameter '%s' needs an example", method, path, name).isNotNull();
      out = out.replace("{" + name + "}", value);
    }
    return out;
  }

  // ------------------------------------------------------------------ state

  /** What a refused request must not change. Stream partitions' amounts follow their load: ids are compared. */
  static Map<String, Object> state() throws Exception {
    Map<String, Object> s = new TreeMap<>();
    List<String> live = new ArrayList<>();
    server.ledger().snapshot().reservations().forEach(r -> live.add(r.id() + ":" + r.owner() + ":" + r.priority()));
    live.sort(null);
    s.put("live reservations", live);
    s.put("reservations made or ended", server.events().stream().filter(e -> e.type() == LedgerEvent.Type.RESERVED
        || e.type() == LedgerEvent.Type.RELEASED || e.type() == LedgerEvent.Type.PREEMPTED).count());
    for (Capability c : server.capabilities()) {
      s.put(c.name() + " in flight", c.view().inFlight());
      s.put(c.name() + " queued", c.view().queued());
    }
    s.put("queries", TestServers.get(server, "/v1/queries").json().size());
    s.put("tasks", TestServers.get(server, "/v1/tasks").json().size());
    List<String> streams = new ArrayList<>();
    for (JsonNode st : TestServers.get(server, "/v1/streams").json()) {
      long submitted = 0;
      for (JsonNode p : st.path("partitionStats")) {
        submitted += p.path("submitted").asLong();
      }
      streams.add(st.get("name").asText() + ":" + st.get("partitions").asInt() + ":" + submitted);
    }
    s.put("streams", streams);
    // What the newer routes hold: shard requests, shadow workers, shadow nodes (a refused POST must add none).
    for (String list : List.of("/v1/requests", "/v1/shadow-workers", "/v1/failover/nodes")) {
      s.put(list, entries(TestServers.get(server, list).json()));
    }
    return s;
  }

  /** The ids or names a listing holds (an array, or an object of arrays), sorted. */
  static List<String> entries(JsonNode listing) {
    List<String> out = new ArrayList<>();
    List<JsonNode> items = new ArrayList<>();
    if (listing.isArray()) {
      listing.forEach(items::add);
    } else {
      listing.forEach(v -> {
        if (v.isArray()) {
          v.forEach(items::add);
        }
      });
    }
    for (JsonNode i : items) {
      JsonNode key = i.has("id") ? i.get("id") : i.has("name") ? i.get("name") : i.get("node");
      out.add(String.valueOf(key));
    }
    out.sort(null);
    return out;
  }

  // ------------------------------------------------------------------ probes

  /** One hostile request and what its refusal must name. */
  record Probe(String what, HttpRequest request, String field, boolean hasValue, String rawRequest) {
    static Probe http(String what, HttpRequest request, String field, boolean hasValue) {
      return new Probe(what, request, field, hasValue, null);
    }
  }

  static HttpRequest.Builder to(String path) {
    return HttpRequest.newBuilder(URI.create(server.url() + path)).timeout(java.time.Duration.ofSeconds(30));
  }

  static HttpRequest json(String method, String path, String body) {
    return to(path).header("Content-Type", "application/json")
        .method(method.toUpperCase(java.util.Locale.ROOT), HttpRequest.BodyPublishers.ofString(body)).build();
  }

  /** A value of another JSON type than the schema's, and the out-of-range and malformed values of its type. */
  static List<Map.Entry<String, String>> badValues(JsonNode schema, boolean required) {
    List<Map.Entry<String, String>> v = new ArrayList<>();
    String type = schema.path("type").asText("");
    switch (type) {
      case "string" -> {
        v.add(Map.entry("a number", "42"));
        v.add(Map.entry("true", "true"));
        v.add(Map.entry("an object", "{\"a\": 1}"));
        v.add(Map.entry("an array", "[\"a\"]"));
        if (schema.has("enum")) {
          String first = schema.get("enum").get(0).asText();
          v.add(Map.entry("an unknown enum value", "\"nonsense\""));
          v.add(Map.entry("a padded enum value", quote(" " + first)));
          v.add(Map.entry("an upper-case enum value", quote(first.toUpperCase(java.util.Locale.ROOT))));
        }
        if (schema.has("pattern")) {
          v.add(Map.entry("text off the pattern", "\"bad name!\""));
          v.add(Map.entry("empty text", "\"\""));
          v.add(Map.entry("a NUL", "\"a\\u0000b\""));
        }
        if (schema.has("maxLength")) {
          v.add(Map.entry("text over maxLength", quote("x".repeat(schema.get("maxLength").asInt() + 1))));
        }
        String format = schema.path("format").asText("");
        if (format.equals("memory") || format.equals("cpu")) {
          v.add(Map.entry("a negative amount", format.equals("memory") ? "\"-1MiB\"" : "\"-500m\""));
          v.add(Map.entry("NaN as an amount", "\"NaN\""));
          v.add(Map.entry("a huge amount", format.equals("memory") ? "\"99999999999999TiB\"" : "\"1e30\""));
          v.add(Map.entry("words", "\"lots\""));
        }
      }
      case "integer", "number" -> {
        v.add(Map.entry("text for a number", "\"2\""));
        v.add(Map.entry("true", "true"));
        v.add(Map.entry("an array", "[1]"));
        v.add(Map.entry("NaN", "NaN"));
        v.add(Map.entry("Infinity", "1e400"));
        v.add(Map.entry("-Infinity", "-1e400"));
        v.add(Map.entry("a number past a long", "99999999999999999999"));
        if (type.equals("integer")) {
          v.add(Map.entry("a fraction", "1.5"));
          v.add(Map.entry("a huge integer", "1e30"));
        }
        if (schema.has("minimum")) {
          double min = schema.get("minimum").asDouble();
          boolean exclusive = schema.path("exclusiveMinimum").asBoolean(false);
          v.add(Map.entry("below the minimum", number(exclusive ? min : min - 1)));
          v.add(Map.entry("negative", "-1"));
        }
        if (schema.has("maximum")) {
          v.add(Map.entry("above the maximum", number(schema.get("maximum").asDouble() + 1)));
        }
      }
      case "array" -> {
        v.add(Map.entry("text for an array", "\"x\""));
        v.add(Map.entry("an object for an array", "{}"));
        v.add(Map.entry("a null item", "[null]"));
        if (schema.path("minItems").asInt(0) >= 1) {
          v.add(Map.entry("an empty array", "[]"));
        }
      }
      default -> {
        // An untyped value (anything goes) has nothing to get wrong.
      }
    }
    if (required) {
      v.add(Map.entry("null for a required field", "null"));
    }
    return v;
  }

  static String number(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  static String quote(String s) {
    return JsonNodeFactory.instance.textNode(s).toString();
  }

  /** Field probes of {@code schema}, at {@code prefix}, built on the valid {@code base} object. */
  static void fieldProbes(String method, String path, String prefix, JsonNode schema, ObjectNode root,
      ObjectNode base, List<Probe> out) {
    java.util.Set<String> required = new java.util.HashSet<>();
    schema.path("required").forEach(r -> required.add(r.asText()));
    String where = prefix.isEmpty() ? "" : prefix + ".";
    for (Iterator<Map.Entry<String, JsonNode>> it = schema.path("properties").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> prop = it.next();
      String name = prop.getKey();
      JsonNode ps = resolve(prop.getValue());
      String field = where + name;
      for (Map.Entry<String, String> bad : badValues(ps, required.contains(name))) {
        ObjectNode copy = root.deepCopy();
        String body = substitute(copy, base, root, name, "@@BAD@@").replace("\"@@BAD@@\"", bad.getValue());
        out.add(Probe.http(field + " = " + bad.getKey(), json(method, path, body), field, true));
      }
      if (required.contains(name)) {
        ObjectNode copy = root.deepCopy();
        locate(copy, base, root).remove(name);
        out.add(Probe.http(field + " missing", json(method, path, copy.toString()), field, false));
      }
      // The first item of an array of objects, field by field.
      JsonNode items = resolve(ps.path("items"));
      if (ps.path("type").asText().equals("array") && items != null && items.has("properties")
          && base.path(name).isArray() && base.get(name).size() > 0 && base.get(name).get(0).isObject()) {
        fieldProbes(method, path, field + "[0]", items, root, (ObjectNode) base.get(name).get(0), out);
      }
    }
    ObjectNode copy = root.deepCopy();
    locate(copy, base, root).put("colour", "red");
    out.add(Probe.http(where + "colour (unknown field)", json(method, path, copy.toString()), where + "colour",
        true));
  }

  /** The node in {@code copy} at the position {@code target} has in {@code original}. */
  static ObjectNode locate(ObjectNode copy, ObjectNode target, JsonNode original) {
    if (original == target) {
      return copy;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = original.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      if (f.getValue().isArray()) {
        for (int i = 0; i < f.getValue().size(); i++) {
          JsonNode item = f.getValue().get(i);
          if (item == target) {
            return (ObjectNode) copy.get(f.getKey()).get(i);
          }
          if (item.isObject()) {
            ObjectNode found = locate((ObjectNode) copy.get(f.getKey()).get(i), target, item);
            if (found != null) {
              return found;
            }
          }
        }
      } else if (f.getValue().isObject()) {
        ObjectNode found = locate((ObjectNode) copy.get(f.getKey()), target, f.getValue());
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }

  static String substitute(ObjectNode copy, ObjectNode base, JsonNode root, String name, String marker) {
    locate(copy, base, root).put(name, marker);
    return copy.toString();
  }

  static List<Probe> probes(String method, String path) {
    List<Probe> out = new ArrayList<>();
    String url = path(method, path, null);
    JsonNode op = operation(method, path);
    JsonNode schema = bodySchema(method, path);
    // Path parameters: text for an integer id, past a long, negative, a NUL, absurdly long.
    for (JsonNode p : op.path("parameters")) {
      String name = p.get("name").asText();
      String type = resolve(p.path("schema")).path("type").asText("string");
      boolean inPath = p.get("in").asText().equals("path");
      List<String> bad = type.equals("integer")
          ? new ArrayList<>(List.of("abc", "1.5", "NaN", "99999999999999999999", "%00"))
          : new ArrayList<>(List.of("no-such-" + name, "%00", "x".repeat(300), "a%20b", "%2e%2e"));
      if (type.equals("integer") && (inPath || p.path("schema").has("minimum"))) {
        bad.add("-1");
      }
      for (String b : bad) {
        if (p.get("in").asText().equals("path")) {
          HttpRequest r = schema != null ? json(method, path(method, path, Map.of(name, b)),
              schema.get("example").toString())
              : to(path(method, path, Map.of(name, b))).method(method.toUpperCase(java.util.Locale.ROOT),
                  HttpRequest.BodyPublishers.noBody()).build();
          out.add(Probe.http("path " + name + " = " + b, r, name, true));
        } else {
          HttpRequest r = to(url + "?" + name + "=" + b).method(method.toUpperCase(java.util.Locale.ROOT),
              HttpRequest.BodyPublishers.noBody()).build();
          out.add(Probe.http("query " + name + " = " + b, r, name, true));
        }
      }
      if (p.get("in").asText().equals("query")) {
        JsonNode ps = resolve(p.path("schema"));
        List<String> more = new ArrayList<>();
        if (ps.has("minimum")) {
          more.add(number(ps.get("minimum").asDouble() - 1));
        }
        if (ps.has("maximum")) {
          more.add(number(ps.get("maximum").asDouble() + 1));
        }
        if (ps.has("enum")) {
          more.add("nonsense");
        }
        for (String b : more) {
          out.add(Probe.http("query " + name + " = " + b, to(url + "?" + name + "="
              + URLEncoder.encode(b, StandardCharsets.UTF_8)).GET().build(), name, true));
        }
      }
    }
    if (schema != null) {
      ObjectNode example = (ObjectNode) schema.get("example");
      for (String bad : List.of("{", "null", "[]", "\"text\"", "42", "", "{} {}", "\u0000")) {
        out.add(Probe.http("body " + bad, json(method, url, bad), "(body)", false));
      }
      byte[] big = ("{\"padding\": \"" + "x".repeat(1 << 20) + "\"}").getBytes(StandardCharsets.UTF_8);
      out.add(Probe.http("a 1 MB body", to(url).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(big)).build(), "(body)", true));
      out.add(Probe.http("a 1 MB chunked body", to(url).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))).build(),
          "(body)", true));
      out.add(Probe.http("text/plain", to(url).header("Content-Type", "text/plain")
          .POST(HttpRequest.BodyPublishers.ofString(example.toString())).build(), "Content-Type", true));
      out.add(Probe.http("a form", to(url).header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString("sql=SELECT+1")).build(), "Content-Type", true));
      out.add(Probe.http("no content type", to(url).POST(HttpRequest.BodyPublishers.ofString(example.toString()))
          .build(), "Content-Type", true));
      fieldProbes(method, url, "", schema, example, example, out);
    }
    HttpRequest.Builder foreign = to(url).header("Origin", "http://evil.example");
    out.add(Probe.http("a foreign Origin", schema == null
        ? foreign.method(method.toUpperCase(java.util.Locale.ROOT), HttpRequest.BodyPublishers.noBody()).build()
        : foreign.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
            schema.get("example").toString())).build(), "Origin", true));
    String body = schema == null ? "" : schema.get("example").toString();
    out.add(new Probe("a foreign Host", null, "Host", true, method.toUpperCase(java.util.Locale.ROOT) + " " + url
        + " HTTP/1.1\r\nHost: rebind.evil.example\r\nContent-Type: application/json\r\nContent-Length: "
        + body.getBytes(StandardCharsets.UTF_8).length + "\r\nConnection: close\r\n\r\n" + body));
    return out;
  }

  static Reply send(Probe p) throws Exception {
    if (p.rawRequest() == null) {
      return TestServers.send(p.request());
    }
    URI u = URI.create(server.url());
    try (Socket s = new Socket(u.getHost(), u.getPort())) {
      s.setSoTimeout(30_000);
      s.getOutputStream().write(p.rawRequest().getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      String raw = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int status = Integer.parseInt(raw.substring(9, 12));
      String body = raw.substring(raw.indexOf("\r\n\r\n") + 4);
      JsonNode json = null;
      try {
        json = Json.MAPPER.readTree(body);
      } catch (java.io.IOException notJson) {
        // reported below
      }
      return new Reply(status, body, json);
    }
  }

  @Test
  void everyRouteRefusesHostileInputWithA4xxNamingTheFieldAndChangesNothing() throws Exception {
    SoftAssertions soft = new SoftAssertions();
    int sent = 0;
    awaitSteadyState();
    Map<String, Object> before = state();
    for (String[] op : operations()) {
      String method = op[0];
      String path = op[1];
      for (Probe p : probes(method, path)) {
        Reply r;
        try {
          r = send(p);
        } catch (java.io.IOException e) {
          soft.fail(method + " " + path + " with " + p.what() + ": no answer (" + e.getMessage() + ")");
          continue;
        }
        sent++;
        String what = method.toUpperCase(java.util.Locale.ROOT) + " " + path + " with " + p.what() + " -> "
            + r.status() + " " + r.body();
        soft.assertThat(r.status()).as(what).isBetween(400, 499);
        soft.assertThat(r.json()).as(what + ": a JSON error").isNotNull();
        if (r.json() == null) {
          continue;
        }
        soft.assertThat(r.json().path("status").asInt()).as(what).isEqualTo(r.status());
        soft.assertThat(r.body()).as(what + ": no Java internals").doesNotContain("java.").doesNotContain("Exception");
        String field = r.json().path("field").asText(null);
        if (r.status() == 413) {
          soft.assertThat(field).as(what).isEqualTo("(body)");
        } else if (p.what().startsWith("path") && p.what().contains("%00")) {
          // Jetty refuses a NUL in the path before any route sees it, and says so about the request.
          soft.assertThat(field).as(what).isEqualTo("(request)");
        } else {
          // The field itself, or the part of it at fault (records[0] for a null record).
          soft.assertThat(field).as(what + ": names the field").matches(java.util.regex.Pattern.quote(p.field())
              + "([.\\[].*)?");
        }
        if (p.hasValue()) {
          soft.assertThat(r.json().has("value") && !r.json().get("value").isNull()).as(what + ": names the value")
              .isTrue();
        }
      }
      soft.assertThat(state()).as("state after sweeping " + method + " " + path).isEqualTo(before);
    }
    // Wrong methods on every path: 405 with Allow, as JSON.
    for (String path : iterable(doc.get("paths").fieldNames())) {
      java.util.Set<String> have = new java.util.HashSet<>();
      doc.get("paths").get(path).fieldNames().forEachRemaining(have::add);
      String url = path(have.iterator().next(), path, null);
      for (String m : List.of("put", "patch", "options", "delete", "post", "get")) {
        if (have.contains(m)) {
          continue;
        }
        HttpResponse<String> res = TestServers.HTTP.send(to(url).header("Content-Type", "application/json")
            .method(m.toUpperCase(java.util.Locale.ROOT), HttpRequest.BodyPublishers.ofString("{}")).build(),
            HttpResponse.BodyHandlers.ofString());
        sent++;
        String what = m + " " + path + " -> " + res.statusCode() + " " + res.body();
        soft.assertThat(res.statusCode()).as(what).isEqualTo(405);
        soft.assertThat(res.headers().firstValue("Allow")).as(what).isPresent();
        soft.assertThat(res.body()).as(what).startsWith("{").contains("\"status\":405");
      }
    }
    soft.assertThat(state()).as("state after the wrong methods").isEqualTo(before);
    soft.assertThat(sent).as("probes sent").isGreaterThan(300);
    soft.assertAll();
  }

  static <T> Iterable<T> iterable(Iterator<T> it) {
    List<T> l = new ArrayList<>();
    it.forEachRemaining(l::add);
    return l;
  }

  @Test
  void theDocumentListsEveryServedRouteWithAnExampleForEveryBody() {
    List<String> documented = new ArrayList<>();
    operations().forEach(op -> documented.add(op[0] + " " + op[1]));
    List<String> served = new ArrayList<>();
    server.routes().forEach(r -> served.add(r.method() + " " + r.path()));
    assertThat(documented).containsExactlyInAnyOrderElementsOf(served);
    for (String[] op : operations()) {
      JsonNode schema = bodySchema(op[0], op[1]);
      if (schema != null) {
        assertThat(schema.get("example")).as(op[0] + " " + op[1]).isInstanceOf(ObjectNode.class);
      }
    }
  }
}
