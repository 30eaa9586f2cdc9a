package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard in a real headless Chromium, driven through chromedriver's W3C WebDriver endpoints. Skips
 * when Debian's chromium and chromium-driver are not installed.
 */
class DashboardBrowserTest {
  @TempDir Path profile;

  @Test
  void pageLoadsChartsRenderAndAQueryShowsItsReport() throws Exception {
    Optional<Path> chromium = find("chromium", "chromium-browser", "google-chrome");
    Optional<Path> driver = find("chromedriver");
    Assumptions.assumeTrue(chromium.isPresent() && driver.isPresent(),
        "chromium and chromedriver are not installed (apt-get install -y chromium chromium-driver); skipping");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Process cd = new ProcessBuilder(driver.get().toString(), "--port=" + port).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    PenumbraServer server = TestServers.started(Map.of());
    String wd = "http://127.0.0.1:" + port;
    String session = null;
    try {
      waitFor(() -> call("GET", wd + "/status", null).path("value").path("ready").asBoolean(), 15_000);
      // One query before the page opens, so the capability's chart has data from the first poll.
      assertThat(TestServers.post(server, "/v1/queries", "{\"sql\": \"SELECT count(*) FROM orders\"}").status())
          .isEqualTo(200);
      // And a task and two stream intervals, so every capability's chart has data.
      assertThat(TestServers.post(server, "/v1/tasks", "{\"type\": \"t\", \"phases\": [{\"millis\": 5,"
          + " \"memory\": \"1MiB\"}]}").status()).isEqualTo(200);
      assertThat(TestServers.post(server, "/v1/streams", "{\"name\": \"s\"}").status()).isEqualTo(201);
      StreamCapability streams = (StreamCapability) server.capability("stream").orElseThrow();
      for (int i = 0; i < 2; i++) {
        TestServers.post(server, "/v1/streams/s/records", "{\"records\": [{\"value\": \"x\"}]}");
        streams.tickAll();
      }
      // And a sharded request, finished, for the shard chart and the requests panel.
      assertThat(TestServers.post(server, "/v1/requests", "{\"id\": \"dash\", \"units\": [{\"to\": 400}]}").status())
          .isEqualTo(202);
      waitFor(() -> TestServers.get(server, "/v1/requests/dash").json().get("state").asText().equals("done"), 30_000);
      ObjectNode caps = Json.MAPPER.createObjectNode();
      ObjectNode opts = caps.putObject("capabilities").putObject("alwaysMatch").putObject("goog:chromeOptions");
      opts.put("binary", chromium.get().toString());
      var args = opts.putArray("args");
      for (String a : List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-dev-shm-usage", "--window-size=1280,1000", "--user-data-dir=" + profile)) {
        args.add(a);
      }
      JsonNode created = call("POST", wd + "/session", caps);
      session = created.path("value").path("sessionId").asText();
      assertThat(session).as(created.toString()).isNotBlank();
      String base = wd + "/session/" + session;
      call("POST", base + "/url", Json.MAPPER.createObjectNode().put("url", server.url() + "/"));
      assertThat(script(base, "return document.title").asText()).isEqualTo("Penumbra");
      // The page marks itself loaded after its first successful fetch; charts then hold data.
      waitFor(() -> script(base, "return document.body.dataset.loaded").asText().equals("true"), 20_000);
      waitFor(() -> script(base, "return Number(document.body.dataset.points || 0)").asInt() > 0, 20_000);
      JsonNode drawn = script(base, """
          const out = {};
          for (const c of document.querySelectorAll('canvas')) {
            const chart = Chart.getChart(c);
            const pts = chart ? chart.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0;
            const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let ink = 0;
            for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) ink++;
            const x = chart && chart.scales.x;
            out[c.id] = {points: pts, ink: ink, width: c.width, rotation: x ? x.labelRotation : 0,
              labels: x ? x.ticks.map(t => Array.isArray(t.label) ? t.label.join(' ') : String(t.label ?? '')) : []};
          }
          return out;""");
      assertThat(drawn.has("utilisation")).as(drawn.toString()).isTrue();
      assertThat(drawn.has("cap-query")).as(drawn.toString()).isTrue();
      for (var e : iterable(drawn.fields())) {
        JsonNode c = e.getValue();
        assertThat(c.get("points").asInt()).as(drawn.toString()).isPositive();
        assertThat(c.get("ink").asInt()).as(drawn.toString()).isGreaterThan(1000);
        if (!e.getKey().equals("utilisation") && !e.getKey().startsWith("cap-")) {
          continue; // not a time axis
        }
        // Time axes: level labels, at most 4, none repeating the one before it (they once slanted and repeated).
        assertThat(c.get("rotation").asDouble()).as(drawn.toString()).isZero();
        List<String> labels = new java.util.ArrayList<>();
        c.get("labels").forEach(l -> labels.add(l.asText()));
        assertThat(labels.size()).as(drawn.toString()).isLessThanOrEqualTo(4);
        for (int i = 1; i < labels.size(); i++) {
          if (!labels.get(i).isEmpty()) {
            assertThat(labels.get(i)).as(drawn.toString()).isNotEqualTo(labels.get(i - 1));
          }
        }
      }
      waitFor(() -> script(base, "return document.querySelectorAll('#shard-requests tbody tr').length").asInt() > 0,
          10_000);
      // The pools panel: a row per priority's pool, and the finished request's shards as bars, predicted and actual.
      waitFor(() -> script(base, "return document.querySelectorAll('#shard-pools tbody tr').length").asInt() == 3,
          10_000);
      waitFor(() -> script(base, "return document.querySelectorAll('#shard-recent svg.shard-request rect').length")
          .asInt() >= 2, 10_000);
      // Submit a query through the form and wait for its report.
      script(base, """
          document.getElementById('sql').value = 'SELECT r_name FROM region ORDER BY r_name';
          document.getElementById('priority').value = 'critical';
          document.getElementById('submit').click();
          return true;""");
      waitFor(() -> !script(base, "return document.getElementById('report').dataset.status").asText()
          .matches("idle|running"), 30_000);
      assertThat(script(base, "return document.getElementById('report').dataset.status").asText()).isEqualTo("done");
      String report = script(base, "return document.getElementById('report').textContent").asText();
      assertThat(report).contains("5 rows").contains("outcome completed").contains("reservation #")
          .contains("\"priority\": \"critical\"").contains("AFRICA");
      // A shadow worker heartbeating to this node shows in the cluster and workers card with its load.
      byte[] hello = ShadowWire.MAPPER.writeValueAsBytes(
          new ShadowWire.Hello("dash-w", "http://127.0.0.1:9", 0.01, ShadowWorker.SEED, 2));
      try (WorkerHeartbeat hb = new WorkerHeartbeat("dash-w", List.of(java.net.URI.create(server.url())), null,
          hello, java.time.Clock.systemUTC(), m -> { })) {
        hb.start(ShadowWorkers.HEARTBEAT);
        waitFor(() -> script(base, "return document.querySelectorAll('#cluster-workers tr').length").asInt() > 1,
            15_000);
        assertThat(script(base, "return document.getElementById('cluster-card').hidden").asBoolean()).isFalse();
        assertThat(script(base, "return document.getElementById('cluster-workers').textContent").asText())
            .contains("dash-w").contains("0 / 2").contains("s ago");
      }
    } finally {
      if (session != null) {
        try {
          call("DELETE", wd + "/session/" + session, null);
        } catch (IOException ignored) {
          // chromedriver is killed next anyway
        }
      }
      cd.destroy();
      server.close();
    }
  }

  private static <T> List<T> iterable(java.util.Iterator<T> it) {
    List<T> out = new java.util.ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }

  private static JsonNode script(String base, String js) throws Exception {
    ObjectNode body = Json.MAPPER.createObjectNode().put("script", js);
    body.putArray("args");
    JsonNode r = call("POST", base + "/execute/sync", body);
    if (r.path("value").has("error")) {
      throw new AssertionError("script failed: " + r);
    }
    return r.path("value");
  }

  private static JsonNode call(String method, String url, JsonNode body) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json");
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body.toString()));
    return Json.MAPPER.readTree(TestServers.HTTP.send(b.build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body());
  }

  interface Check {
    boolean ok() throws Exception;
  }

  private static void waitFor(Check check, long millis) {
    await().atMost(Duration.ofMillis(millis)).pollInterval(Duration.ofMillis(100)).ignoreException(IOException.class)
        .until(check::ok);
  }

  private static Optional<Path> find(String... names) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(java.io.File.pathSeparator)) {
      for (String n : names) {
        Path p = Path.of(dir, n);
        if (Files.isExecutable(p)) {
          return Optional.of(p);
        }
      }
    }
    return Optional.empty();
  }
}
