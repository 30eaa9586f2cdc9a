package dev.penumbra.server;

import static dev.penumbra.server.TestServers.get;
import static dev.penumbra.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.server.TestServers.Reply;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile clients at the HTTP edge: SQL sandbox probes, bad bodies, foreign origins, wrong methods. */
class EdgeTest {
  static PenumbraServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServers.started(Map.of("PENUMBRA_STREAM_ENABLED", "true", "PENUMBRA_TASK_ENABLED", "true"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static String quote(String s) {
    return Json.MAPPER.valueToTree(s).toString();
  }

  @Test
  void sqlSandboxProbesAreRefusedWith400AndReachNothingOnTheHost(@TempDir Path dir) throws Exception {
    Path pwned = dir.resolve("pwned1.csv");
    Path attached = dir.resolve("x.db");
    List<String> probes = List.of(
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM read_csv('/etc/passwd', header = false)",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM read_json_auto('/etc/hostname')",
        "SELECT * FROM duckdb_databases()",
        "SELECT current_setting('temp_directory')",
        "SELECT $$'$$ AS a; COPY (SELECT 42 AS pwned) TO '" + pwned + "'; SELECT 1 AS done --'",
        "SELECT E'\\'' AS a; COPY (SELECT 42 AS pwned) TO '" + pwned + "'; SELECT 1 AS done --'",
        "ATTACH '" + attached + "'",
        "SELECT $$'$$ AS a; CREATE OR REPLACE TEMP VIEW region AS SELECT 999 AS poisoned; SELECT 1 AS done --'",
        "SET lock_configuration = true");
    for (String probe : probes) {
      Reply r = post(server, "/v1/queries", "{\"sql\": " + quote(probe) + ", \"priority\": \"critical\"}");
      assertThat(r.status()).as(probe + " -> " + r.body()).isEqualTo(400);
      assertThat(r.json().get("field").asText()).isEqualTo("sql");
      assertThat(r.body()).doesNotContain("/etc/hostname contents").doesNotContain(".duckdb");
    }
    assertThat(pwned).doesNotExist();
    assertThat(attached).doesNotExist();
    assertThat(get(server, "/v1/reservations").json()).isEmpty();
    for (int i = 0; i < 4; i++) {
      Reply ok = post(server, "/v1/queries", "{\"sql\": \"SELECT * FROM region ORDER BY 1\"}");
      assertThat(ok.status()).as(ok.body()).isEqualTo(200);
      assertThat(ok.json().get("columns").get(0).asText()).isEqualTo("r_regionkey");
      assertThat(ok.json().get("rows")).hasSize(5);
    }
  }

  @Test
  void aNullBodyOnEveryPostRouteIs400NamingTheBody() throws Exception {
    for (Api.Route route : server.routes()) {
      if (!route.method().equals("post")) {
        continue;
      }
      String path = route.path().replaceAll("\\{[^}]+}", "s1");
      Reply r = post(server, path, "null");
      assertThat(r.status()).as(path + " -> " + r.body()).isEqualTo(400);
      assertThat(r.json().get("field").asText()).as(path).isEqualTo("(body)");
    }
  }

  @Test
  void duplicateKeysAndTextForNumbersAreRefusedWithoutJavaNames() throws Exception {
    Reply dup = post(server, "/v1/queries", "{\"sql\": \"SELECT 1\", \"sql\": \"SELECT 2\"}");
    assertThat(dup.status()).as(dup.body()).isEqualTo(400);
    assertThat(dup.json().get("field").asText()).isEqualTo("sql");
    Reply coerced = post(server, "/v1/reservations",
        "{\"owner\": \"x\", \"cpu\": \"1\", \"memory\": \"1MiB\", \"leaseSeconds\": \"30\"}");
    assertThat(coerced.status()).as(coerced.body()).isEqualTo(400);
    assertThat(coerced.json().get("field").asText()).isEqualTo("leaseSeconds");
    // The error names what was sent, as JSON: the string "30", not the number.
    assertThat(coerced.json().get("value").asText()).isEqualTo("\"30\"");
    assertThat(coerced.json().get("error").asText()).contains("\"30\"");
    Reply number = post(server, "/v1/queries", "{\"sql\": 42}");
    assertThat(number.status()).isEqualTo(400);
    for (Reply r : List.of(dup, coerced, number)) {
      assertThat(r.body()).doesNotContain("java.").doesNotContain("`").doesNotContain("Exception");
    }
    assertThat(get(server, "/v1/reservations").json()).isEmpty();
  }

  @Test
  void aCrossSiteRequestIsRefused() throws Exception {
    Reply plain = TestServers.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/queries"))
        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("{\"sql\":\"SELECT 1\"}"))
        .build());
    assertThat(plain.status()).as(plain.body()).isEqualTo(415);
    assertThat(plain.json().get("field").asText()).isEqualTo("Content-Type");
    // A method the path does not take is 405 whatever the body's type: the method is the first mistake.
    Reply put = TestServers.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/queries"))
        .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.ofString("x")).build());
    assertThat(put.status()).as(put.body()).isEqualTo(405);
    assertThat(put.json().get("error").asText()).contains("allowed: GET, POST");
    Reply nowhere = TestServers.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/nosuch"))
        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("x")).build());
    assertThat(nowhere.status()).as(nowhere.body()).isEqualTo(404);
    Reply foreign = TestServers.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/queries"))
        .header("Content-Type", "application/json").header("Origin", "http://evil.example")
        .POST(HttpRequest.BodyPublishers.ofString("{\"sql\":\"SELECT 1\"}")).build());
    assertThat(foreign.status()).as(foreign.body()).isEqualTo(403);
    assertThat(foreign.json().get("field").asText()).isEqualTo("Origin");
    // DNS rebinding: the browser sends the attacker's name as Host.
    String raw = rawGet("/v1/reservations", "rebind.evil.example");
    assertThat(raw).startsWith("HTTP/1.1 403").contains("\"field\":\"Host\"");
    assertThat(get(server, "/v1/queries").json()).isEmpty();
  }

  @Test
  void aKnownPathWithAnotherMethodIs405WithAllow() throws Exception {
    for (String method : List.of("PUT", "PATCH")) {
      var res = TestServers.HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/reservations"))
          .header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString("{}"))
          .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(res.statusCode()).as(method + " " + res.body()).isEqualTo(405);
      assertThat(res.headers().firstValue("Allow")).hasValue("GET, POST");
      assertThat(Json.MAPPER.readTree(res.body()).get("status").asInt()).isEqualTo(405);
    }
  }

  @Test
  void aClientUploadingAnOversizedBodyGetsIts413EveryTime() throws Exception {
    // Before the body was drained, the server closed with the upload unread and the client often saw no answer.
    byte[] big = ("{\"sql\": \"" + "x".repeat(1 << 20) + "\"}").getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < 12; i++) {
      HttpRequest.BodyPublisher body = i % 2 == 0 ? HttpRequest.BodyPublishers.ofByteArray(big)
          : HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big));
      Reply r = TestServers.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/queries"))
          .header("Content-Type", "application/json").POST(body).build());
      assertThat(r.status()).as("attempt %d: %s", i, r.body()).isEqualTo(413);
      assertThat(r.json().get("field").asText()).isEqualTo("(body)");
    }
    assertThat(get(server, "/v1/queries").json()).isEmpty();
  }

  @Test
  void errorsJettyAnswersItselfAreJsonToo() throws Exception {
    String tooLong = rawRequest("GET /v1/nodes?" + "x".repeat(70_000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Connection: close\r\n\r\n");
    assertThat(tooLong).startsWith("HTTP/1.1 414").contains("application/json").contains("\"status\":414");
    String bigHeader = rawRequest("GET /v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "y".repeat(70_000)
        + "\r\nConnection: close\r\n\r\n");
    assertThat(bigHeader).startsWith("HTTP/1.1 431").contains("application/json").contains("\"status\":431");
    String traversal = rawRequest("GET /v1/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Connection: close\r\n\r\n");
    assertThat(traversal).startsWith("HTTP/1.1 4").contains("application/json").doesNotContain("<html");
  }

  private static String rawRequest(String request) throws Exception {
    URI u = URI.create(server.url());
    try (Socket s = new Socket(u.getHost(), u.getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static String rawGet(String path, String host) throws Exception {
    URI u = URI.create(server.url());
    try (Socket s = new Socket(u.getHost(), u.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
