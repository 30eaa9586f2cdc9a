package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.penumbra.query.shadow.ShadowResult;
import dev.penumbra.query.shadow.ShadowSite;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A control plane and a real shadow worker process on 127.0.0.1: the worker registers, the gateway's shadows run
 * on it, its sandbox refuses what the local one refuses, and a worker killed with kill -9 mid-shadow loses no
 * query (the shadow runs again locally) and is dropped.
 */
class ShadowWorkerProcessTest {
  private PenumbraServer server;
  private Process worker;

  @AfterEach
  void stop() {
    if (worker != null) {
      worker.destroyForcibly();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void shadowsRunOnTheWorkerAndAWorkerKilledMidShadowLosesNoQuery() throws Exception {
    server = TestServers.started(Map.of());
    String workerUrl = startWorker("w1");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(live()).singleElement().satisfies(w -> assertThat(w.path("url").asText()).isEqualTo(workerUrl)));

    // One sample run straight on the worker first: its first run (a cold JVM, replicas just loaded) can outlast
    // the control plane's call timeout on a loaded machine, and the gateway's first samples are what this tests.
    var warm = TestServers.send(HttpRequest.newBuilder(URI.create(workerUrl + "/v1/shadow"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
            "{\"sql\": \"SELECT count(*) FROM nation\", \"capNanos\": 10000000000}")).build());
    assertThat(warm.status()).as(warm.body()).isEqualTo(200);
    // A new shape is sampled: on the worker now. The gate's budget starts empty (a cold start samples only once
    // primary time has paid for it), so every unsettled query is sampled here, whatever the budget. A few new shapes
    // at most, so that a heartbeat late on a loaded machine does not decide.
    QueryCapability query = (QueryCapability) server.capability("query").orElseThrow();
    await().atMost(Duration.ofSeconds(60)).until(() -> query.gateway() != null);
    query.gateway().shadowAlways(true);
    JsonNode stats = null;
    for (String col : List.of("o_orderpriority", "o_orderstatus", "o_shippriority")) {
      var ok = TestServers.post(server, "/v1/queries",
          "{\"sql\": \"SELECT " + col + ", count(*) FROM orders GROUP BY 1 ORDER BY 1\"}");
      assertThat(ok.status()).as(ok.body()).isEqualTo(200);
      stats = TestServers.get(server, "/v1/shadow-workers").json();
      if (stats.path("remote").asLong() >= 1) {
        break;
      }
    }
    assertThat(stats.path("remote").asLong()).as(stats.toString()).isGreaterThanOrEqualTo(1);
    assertThat(stats.path("workers").get(0).path("shadows").asLong()).isGreaterThanOrEqualTo(1);
    assertThat(workerStatus(workerUrl).path("shadows").asLong()).isGreaterThanOrEqualTo(2);

    // A query the gateway refuses (its parser check runs locally, before any sample) is the query's rejection,
    // not a worker failure; the worker's own sandbox refuses the same SQL as the gateway's would.
    var bad = TestServers.post(server, "/v1/queries", "{\"sql\": \"SELECT no_such_column FROM orders\"}");
    assertThat(bad.status()).as(bad.body()).isEqualTo(400);
    assertThat(bad.json().path("field").asText()).isEqualTo("sql");
    assertThat(live()).hasSize(1);
    assertThat(live().get(0).path("failures").asLong()).isZero();
    long rejected = workerStatus(workerUrl).path("rejected").asLong();
    var refused = TestServers.send(HttpRequest.newBuilder(URI.create(workerUrl + "/v1/shadow"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
            "{\"sql\": \"SELECT no_such_column FROM orders\", \"capNanos\": 2000000000}")).build());
    assertThat(refused.status()).as(refused.body()).isEqualTo(400);
    assertThat(refused.body()).contains("no_such_column");
    assertThat(workerStatus(workerUrl).path("rejected").asLong()).isEqualTo(rejected + 1);
    // The worker says which control-plane node it is registered with.
    assertThat(workerStatus(workerUrl).path("controlPlanes").get(0).path("registered").asBoolean()).isTrue();

    // A worker URL that is not http://HOST:PORT is refused at the edge, naming the field and the value.
    var badUrl = TestServers.post(server, "/v1/shadow-workers",
        "{\"id\": \"w2\", \"url\": \"ftp://127.0.0.1:1\", \"scale\": 0.01, \"seed\": 42, \"slots\": 2}");
    assertThat(badUrl.status()).isEqualTo(400);
    assertThat(badUrl.json().path("field").asText()).isEqualTo("url");
    assertThat(badUrl.body()).contains("ftp://127.0.0.1:1");

    // kill -9 of the worker in the middle of a long sample run: the shadow comes back, run locally.
    AtomicInteger localRuns = new AtomicInteger();
    try (ShadowWorker.Replicas local = ShadowWorker.Replicas.open(server.config().query(), 1, m -> {})) {
      ShadowSite site = query.workers().around((sql, cap) -> {
        localRuns.incrementAndGet();
        return local.engine.shadow(sql, cap);
      });
      String slow = "SELECT count(*) FROM lineitem a, lineitem b, lineitem c WHERE a.l_quantity + b.l_quantity"
          + " > c.l_quantity";
      CompletableFuture<ShadowResult> shadow = CompletableFuture.supplyAsync(
          () -> site.shadow(slow, Duration.ofSeconds(2)));
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
          .until(() -> workerStatus(workerUrl).path("running").asInt() == 1);
      Process kill = new ProcessBuilder("kill", "-9", Long.toString(worker.pid())).inheritIO().start();
      assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
      ShadowResult r = shadow.get(30, TimeUnit.SECONDS);
      assertThat(r.sql()).isEqualTo(slow);
      assertThat(r.cutOff()).isTrue();
      assertThat(localRuns).hasValue(1);
    }
    assertThat(worker.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(worker.exitValue()).isEqualTo(137);
    JsonNode after = TestServers.get(server, "/v1/shadow-workers").json();
    assertThat(after.path("workers")).isEmpty();
    assertThat(after.path("fellBack").asLong()).isEqualTo(1);
    assertThat(after.path("dropped").asLong()).isEqualTo(1);

    // With no worker up, the gateway still answers, and whatever it samples runs locally (its shadow gate decides
    // whether a sample is worth its cost at all).
    long remote = after.path("remote").asLong();
    var local = TestServers.post(server, "/v1/queries",
        "{\"sql\": \"SELECT c_mktsegment, count(*) FROM customer GROUP BY 1\"}");
    assertThat(local.status()).as(local.body()).isEqualTo(200);
    JsonNode last = TestServers.get(server, "/v1/shadow-workers").json();
    assertThat(last.path("remote").asLong()).isEqualTo(remote);
    assertThat(last.path("fellBack").asLong()).isEqualTo(1);
  }

  private java.util.List<JsonNode> live() throws Exception {
    java.util.List<JsonNode> out = new java.util.ArrayList<>();
    TestServers.get(server, "/v1/shadow-workers").json().path("workers").forEach(out::add);
    return out;
  }

  private static JsonNode workerStatus(String url) throws Exception {
    return TestServers.send(HttpRequest.newBuilder(URI.create(url + "/v1/shadow/status")).GET().build()).json();
  }

  /** Starts a worker process on a free loopback port and returns its URL (from its first line on stdout). */
  private String startWorker(String id) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        ShadowWorker.class.getName(), "--control-plane", server.url(), "--id", id, "--slots", "2");
    pb.environment().putAll(Map.of("PENUMBRA_SERVER_PORT", "0", "PENUMBRA_SERVER_HOST", "127.0.0.1",
        "PENUMBRA_QUERY_SCALE", "0.01", "PENUMBRA_QUERY_CACHE_DIR", TestServers.CACHE.toString()));
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    worker = pb.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(worker.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
      try {
        return out.readLine();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    String first = line.get(60, TimeUnit.SECONDS);
    assertThat(first).as("the worker's first line").startsWith("shadow worker " + id + " at http://127.0.0.1:");
    return first.substring(first.indexOf(" at ") + 4).strip();
  }
}
