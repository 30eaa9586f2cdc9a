package dev.penumbra.cli;

import static dev.penumbra.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three {@code penumbra serve --cluster} processes on 127.0.0.1, the leader's killed with {@code kill -9}: the
 * other two elect a new leader, keep every reservation acknowledged before the kill and take new ones.
 */
class ServeClusterProcessTest {

  @TempDir
  Path dir;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  @Timeout(240)
  void killingTheLeadersProcessKeepsTheLedgerServed() throws Exception {
    List<String> ids = List.of("a", "b", "c");
    StringBuilder peers = new StringBuilder();
    Map<String, Integer> http = new LinkedHashMap<>();
    for (String id : ids) {
      peers.append(peers.isEmpty() ? "" : ",").append(id).append("=127.0.0.1:").append(freePort());
      http.put(id, freePort());
    }
    Map<String, Process> nodes = new LinkedHashMap<>();
    try {
      for (String id : ids) {
        Path config = dir.resolve(id + ".yaml");
        Files.writeString(config, "server:\n  port: " + http.get(id) + "\n  shutdownGrace: 1s\nledger:\n  node: node-"
            + id + "\nquery:\n  enabled: false\nstream:\n  enabled: false\ntask:\n  enabled: false\ncluster:\n"
            + "  self: " + id + "\n  peers: " + peers + "\n  dataDir: " + dir.resolve("raft") + "\n");
        String java = ProcessHandle.current().info().command().orElse("java");
        nodes.put(id, new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
            Main.class.getName(), "serve", "--cluster", "--config", config.toString())
            .redirectOutput(dir.resolve(id + ".out").toFile()).redirectError(dir.resolve(id + ".err").toFile())
            .start());
      }
      for (String id : ids) {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
          assertThat(nodes.get(id).isAlive()).as("node %s: %s", id, Files.readString(dir.resolve(id + ".err")))
              .isTrue();
          assertThat(Files.readString(dir.resolve(id + ".out"))).contains("Penumbra at http://");
        });
      }
      String leader = get(http.get("a"), "/v1/cluster").get("leader").asText();
      assertThat(leader).isIn(ids);
      String follower = ids.stream().filter(i -> !i.equals(leader)).findFirst().orElseThrow();
      List<Long> reserved = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        JsonNode r = post(http.get(follower), "/v1/reservations", "{\"owner\": \"ext-" + i + "\", \"node\": \"node-"
            + follower + "\", \"cpu\": \"10m\", \"memory\": \"1MiB\", \"priority\": \"batch\", \"leaseSeconds\": 600}");
        reserved.add(r.get("id").asLong());
      }

      Process dead = nodes.get(leader);
      Process kill = new ProcessBuilder("kill", "-9", Long.toString(dead.pid())).inheritIO().start();
      assertThat(kill.waitFor()).isZero();
      dead.waitFor();

      List<String> rest = ids.stream().filter(i -> !i.equals(leader)).toList();
      // Both survivors must know the new leader before the reads: a linearizable read on a replica that has not
      // heard from it yet waits for it, which on a loaded machine can outlast a request's timeout.
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
          .untilAsserted(() -> {
            for (String id : rest) {
              JsonNode s = get(http.get(id), "/v1/cluster");
              assertThat(s.get("leader").asText()).as("leader as %s knows it", id).isIn(rest);
            }
          });
      for (long id : reserved) {
        assertThat(get(http.get(rest.get(1)), "/v1/reservations/" + id).get("state").asText()).isEqualTo("active");
      }
      JsonNode after = post(http.get(rest.get(1)), "/v1/reservations", "{\"owner\": \"after\", \"node\": \"node-"
          + rest.get(1) + "\", \"cpu\": \"10m\", \"memory\": \"1MiB\", \"priority\": \"batch\"}");
      assertThat(after.get("id").asLong()).isGreaterThan(reserved.get(reserved.size() - 1));
    } finally {
      for (Process p : nodes.values()) {
        p.destroyForcibly();
      }
      for (Process p : nodes.values()) {
        p.waitFor();
      }
    }
  }

  @Test
  void clusterFlagAndSectionMustGoTogether() throws Exception {
    Path plain = dir.resolve("plain.yaml");
    Files.writeString(plain, "query:\n  enabled: false\nstream:\n  enabled: false\ntask:\n  enabled: false\n");
    CliRun r = run("serve", "--cluster", "--config", plain.toString(), "--port", "0");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--cluster needs the configuration's cluster section").contains("cluster.peers");
    Path clustered = dir.resolve("clustered.yaml");
    Files.writeString(clustered, "cluster:\n  self: a\n  peers: a=127.0.0.1:" + freePort() + "\n  dataDir: "
        + dir.resolve("raft") + "\n");
    r = run("serve", "--config", clustered.toString(), "--port", "0");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("cluster.peers = 'a=127.0.0.1:").contains("--cluster was not given");
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "cluster:\n  self: z\n  peers: a=127.0.0.1:9001,b=127.0.0.1:9002\n  dataDir: /tmp/x\n");
    r = run("serve", "--cluster", "--config", bad.toString(), "--port", "0");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("invalid configuration: cluster.self = 'z'").contains("must include this node");
  }

  private static JsonNode get(int port, String path) throws IOException, InterruptedException {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private static JsonNode post(int port, String path, String body) throws IOException, InterruptedException {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return JSON.readTree(r.body());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
