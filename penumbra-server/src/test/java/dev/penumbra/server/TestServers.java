package dev.penumbra.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** A small server on a free port over a tiny TPC-H database shared by the test classes, and an HTTP client. */
final class TestServers {
  static final Path CACHE = Path.of("target", "test-cache").toAbsolutePath();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private TestServers() {}

  static ServerConfig config(Map<String, String> extra) {
    Map<String, String> env = new java.util.HashMap<>(Map.of(
        "PENUMBRA_SERVER_PORT", "0", "PENUMBRA_QUERY_SCALE", "0.01", "PENUMBRA_QUERY_CACHE_DIR", CACHE.toString(),
        "PENUMBRA_LEDGER_MEMORY", "512MiB", "PENUMBRA_LEDGER_CORES", "2", "PENUMBRA_SERVER_SHUTDOWN_GRACE", "10s",
        "PENUMBRA_QUERY_ENGINE_INSTANCES", "2"));
    env.putAll(extra);
    return ServerConfig.load(null, env);
  }

  static PenumbraServer started(Map<String, String> extra) throws InterruptedException {
    PenumbraServer s = PenumbraServer.builder(config(extra)).build().start();
    if (!s.awaitReady(Duration.ofMinutes(2))) {
      s.close();
      throw new IllegalStateException("server did not become ready");
    }
    return s;
  }

  record Reply(int status, String body, JsonNode json) {}

  /**
   * The environment of node {@code self} of a three-node cluster on loopback (streams and tasks off), plus
   * {@code extra}: each node waits up to a minute for a leader while it builds, so the three start side by side.
   */
  static Map<String, String> clusterNode(String self, String peers, Path dataDir, Map<String, String> extra) {
    Map<String, String> env = new java.util.HashMap<>(Map.of("PENUMBRA_STREAM_ENABLED", "false",
        "PENUMBRA_TASK_ENABLED", "false", "PENUMBRA_LEDGER_NODE", "node-" + self,
        "PENUMBRA_CLUSTER_SELF", self, "PENUMBRA_CLUSTER_PEERS", peers,
        "PENUMBRA_CLUSTER_DATA_DIR", dataDir.toString(), "PENUMBRA_CLUSTER_AWAIT_LEADER", "60s",
        "PENUMBRA_SERVER_SHUTDOWN_GRACE", "1s"));
    env.putAll(extra);
    return env;
  }

  static Reply get(PenumbraServer s, String path) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(URI.create(s.url() + path)).GET().build());
  }

  static Reply post(PenumbraServer s, String path, String body) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(URI.create(s.url() + path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  static Reply delete(PenumbraServer s, String path) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(URI.create(s.url() + path)).DELETE().build());
  }

  static Reply send(HttpRequest req) throws IOException, InterruptedException {
    HttpResponse<String> r = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
    JsonNode json = null;
    try {
      json = Json.MAPPER.readTree(r.body());
    } catch (IOException notJson) {
      // text responses (metrics, the page)
    }
    return new Reply(r.statusCode(), r.body(), json);
  }
}
