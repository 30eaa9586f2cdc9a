package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The routes added after the edge sweep was written ({@code /v1/failover/nodes/*}, {@code /v1/requests},
 * {@code /v1/cluster}, the stream routes), probed with what the sweep does not send: huge and negative numbers,
 * unicode and control characters, very long ids, deeply nested JSON, duplicate keys, charsets and content types.
 * Each answer is a 4xx JSON error naming the field, and nothing was created.
 */
class HostileRoutesTest {
  static PenumbraServer server;
  @TempDir static Path dir;

  @BeforeAll
  static void start() throws Exception {
    server = TestServers.started(Map.of("PENUMBRA_FAILOVER_DATA", dir.resolve("none").toString(),
        "PENUMBRA_QUERY_ENABLED", "false", "PENUMBRA_TASK_ENABLED", "false", "PENUMBRA_LEDGER_CORES", "4"));
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() ->
        TestServers.get(server, "/v1/failover/nodes").json().path("mode").asText().equals("manual"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static String deep(int depth) {
    return "{\"name\": " + "[".repeat(depth) + "]".repeat(depth) + "}";
  }

  static List<Object[]> bodies() {
    String longName = "n" + "a".repeat(5000);
    return List.of(
        new Object[] {"/v1/failover/nodes", "{\"name\": \"" + longName + "\"}", "name"},
        new Object[] {"/v1/failover/nodes", "{\"name\": \"n\u00e9ud\"}", "name"},
        new Object[] {"/v1/failover/nodes", "{\"name\": \"n\\u0000x\"}", "name"},
        new Object[] {"/v1/failover/nodes", "{\"name\": \"a\", \"name\": \"b\"}", "name"},
        new Object[] {"/v1/failover/nodes", deep(5000), "name"},
        new Object[] {"/v1/failover/nodes", "{\"name\": 1e999999}", "name"},
        new Object[] {"/v1/requests", "{\"shards\": 99999999999999999999999, \"units\": [{\"to\": 10}]}", "shards"},
        new Object[] {"/v1/requests", "{\"shards\": -1, \"units\": [{\"to\": 10}]}", "shards"},
        new Object[] {"/v1/requests", "{\"units\": [{\"from\": -9223372036854775808, \"to\": 9223372036854775807}]}",
            "units[0].to"},
        new Object[] {"/v1/requests", "{\"units\": [{\"from\": 0, \"to\": 1e30}]}", "units[0].to"},
        new Object[] {"/v1/requests", "{\"units\": [{\"to\": NaN}]}", "units[0].to"},
        new Object[] {"/v1/requests", "{\"id\": \"\u00fcber\", \"units\": [{\"to\": 10}]}", "id"},
        new Object[] {"/v1/requests", "{\"id\": \"" + "r".repeat(65) + "\", \"units\": [{\"to\": 10}]}", "id"},
        new Object[] {"/v1/requests", "{\"units\": [{\"to\": 10, \"dependsOn\": [\"" + longName + "\"]}]}",
            "units[0].dependsOn[0]"},
        new Object[] {"/v1/requests", "{\"units\": " + "[".repeat(3000) + "]".repeat(3000) + "}", "units[0]"},
        new Object[] {"/v1/requests", "{\"units\": [{\"to\": 10}], \"units\": [{\"to\": 20}]}", "units"},
        new Object[] {"/v1/streams", "{\"name\": \"s\u2028\"}", "name"},
        new Object[] {"/v1/streams", "{\"name\": \"s\", \"partitions\": 4294967297}", "partitions"},
        new Object[] {"/v1/streams", "{\"name\": \"s\", \"sampleRate\": 4.9e-324}", "sampleRate"},
        new Object[] {"/v1/streams", "{\"name\": \"s\", \"sampleRate\": -0.0}", "sampleRate"});
  }

  @ParameterizedTest
  @MethodSource("bodies")
  void hostileBodiesAre4xxNamingTheFieldAndCreateNothing(String path, String body, String field) throws Exception {
    int nodes = TestServers.get(server, "/v1/failover/nodes").json().path("nodes").size();
    int requests = TestServers.get(server, "/v1/requests").json().size();
    int streams = TestServers.get(server, "/v1/streams").json().size();
    TestServers.Reply r = TestServers.post(server, path, body);
    assertThat(r.status()).as(r.body()).isBetween(400, 499);
    assertThat(r.json()).as(r.body()).isNotNull();
    assertThat(r.json().path("field").asText()).as(r.body()).isEqualTo(field);
    assertThat(r.body()).doesNotContain("Exception").doesNotContain("java.").doesNotContain("Body[")
        .doesNotContain("was )").hasSizeLessThan(2000);
    assertThat(TestServers.get(server, "/v1/failover/nodes").json().path("nodes").size()).isEqualTo(nodes);
    assertThat(TestServers.get(server, "/v1/requests").json().size()).isEqualTo(requests);
    assertThat(TestServers.get(server, "/v1/streams").json().size()).isEqualTo(streams);
  }

  @ParameterizedTest
  @CsvSource({
      "/v1/failover/nodes/%s, node",
      "/v1/failover/nodes/%s/risk, node",
      "/v1/requests/%s, id",
      "/v1/streams/%s/plan, name"})
  void oddIdsInThePathAre404NamingTheIdWithoutEchoingAnEssay(String pattern, String field) throws Exception {
    for (String id : List.of("x".repeat(4000), "\u00fc\u00f1\u00ee\u00e7\u00f8d\u00e9", "..", "%00", "a b",
        "\u202etxt.exe", "-1", "9223372036854775808")) {
      String path = String.format(pattern, URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20"));
      TestServers.Reply r = path.endsWith("/risk") ? TestServers.post(server, path, "{\"risk\": 0.5}")
          : TestServers.get(server, path);
      assertThat(r.status()).as("%s: %s", path, r.body()).isBetween(400, 499);
      assertThat(r.json()).as(r.body()).isNotNull();
      if (r.status() == 404 && r.json().has("field")) {
        assertThat(r.json().path("field").asText()).isEqualTo(field);
      }
      assertThat(r.body().length()).as("the answer's size for a %d-character id", id.length()).isLessThan(2000);
    }
  }

  @Test
  void riskTakesOnlyAProbability() throws Exception {
    assertThat(TestServers.post(server, "/v1/failover/nodes", "{\"name\": \"probe\"}").status()).isEqualTo(201);
    for (String risk : List.of("-0.1", "1.0000001", "1e308", "-1e-320", "\"0.5\"", "null", "[0.5]", "true")) {
      TestServers.Reply r = TestServers.post(server, "/v1/failover/nodes/probe/risk", "{\"risk\": " + risk + "}");
      assertThat(r.status()).as("risk %s: %s", risk, r.body()).isEqualTo(400);
      assertThat(r.json().path("field").asText()).isEqualTo("risk");
    }
    TestServers.Reply dup = TestServers.post(server, "/v1/failover/nodes/probe/risk", "{\"risk\": 0.1, \"risk\": 0.99}");
    assertThat(dup.status()).as(dup.body()).isEqualTo(400);
    assertThat(TestServers.get(server, "/v1/failover/nodes/probe").json().path("risk").asDouble(0)).isLessThan(0.99);
  }

  @Test
  void bodiesInAnotherCharsetOrTypeAreRefused() throws Exception {
    for (String type : List.of("application/json; charset=UTF-16", "application/x-ndjson", "application/json-patch+json",
        "text/json")) {
      TestServers.Reply r = TestServers.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/failover/nodes"))
          .header("Content-Type", type).POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"typed\"}",
              type.contains("16") ? StandardCharsets.UTF_16 : StandardCharsets.UTF_8)).build());
      assertThat(r.status()).as("%s: %s", type, r.body()).isBetween(400, 499);
    }
    assertThat(TestServers.get(server, "/v1/failover/nodes/typed").status()).isEqualTo(404);
  }

  @Test
  void theClusterRouteOfASingleServerIsAJson404WhateverIsSent() throws Exception {
    for (String method : List.of("GET", "POST", "DELETE", "PUT")) {
      TestServers.Reply r = TestServers.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/cluster?x="
          + "%00".repeat(100))).header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(deep(2000))).build());
      assertThat(r.status()).as("%s: %s", method, r.body()).isIn(404, 405);
      assertThat(r.json()).as(r.body()).isNotNull();
    }
  }

  @Test
  void registeredNodesAreBounded() throws Exception {
    int limit = FailoverCapability.MAX_REGISTERED;
    int before = TestServers.get(server, "/v1/failover/nodes").json().path("nodes").size();
    int status = 201;
    int i = 0;
    for (; i < limit + 5 && status == 201; i++) {
      status = TestServers.post(server, "/v1/failover/nodes", "{\"name\": \"bulk" + i + "\"}").status();
    }
    assertThat(status).isEqualTo(409);
    assertThat(TestServers.get(server, "/v1/failover/nodes").json().path("nodes").size()).isLessThanOrEqualTo(limit);
    assertThat(before).isLessThanOrEqualTo(limit);
  }
}
