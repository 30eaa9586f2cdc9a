package dev.penumbra.server;

import static dev.penumbra.server.TestServers.get;
import static dev.penumbra.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code penumbra serve --cluster} in this JVM: three servers, each a replica of the replicated ledger on
 * loopback, serve one ledger; {@code /v1/cluster} shows the group; a stopped leader is replaced and nothing
 * reserved is lost; bad cluster sections are refused at load naming the key and the value.
 */
class ClusterServerTest {

  @TempDir
  Path dir;

  private static Map<String, String> env(String self, String peers, Path dataDir) {
    return TestServers.clusterNode(self, peers, dataDir, Map.of("PENUMBRA_QUERY_ENABLED", "false"));
  }

  @Test
  @Timeout(180)
  void threeNodesServeOneLedgerAndSurviveTheLeadersStop() throws Exception {
    String peers = "a=127.0.0.1:" + freePort() + ",b=127.0.0.1:" + freePort() + ",c=127.0.0.1:" + freePort();
    List<CompletableFuture<PenumbraServer>> starting = new ArrayList<>();
    for (String self : List.of("a", "b", "c")) {
      // Each node waits for a leader while it builds, so the three start side by side.
      starting.add(CompletableFuture.supplyAsync(() ->
          PenumbraServer.builder(TestServers.config(env(self, peers, dir))).build().start()));
    }
    List<PenumbraServer> servers = new ArrayList<>();
    try {
      for (CompletableFuture<PenumbraServer> f : starting) {
        servers.add(f.get(120, TimeUnit.SECONDS));
      }
      JsonNode status = get(servers.get(0), "/v1/cluster").json();
      assertThat(status.get("members").findValuesAsText("id")).containsExactly("a", "b", "c");
      // The three agree on one leader (on a loaded machine an early election may be repeated before they do).
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        List<String> seen = new ArrayList<>();
        for (PenumbraServer s : servers) {
          seen.add(get(s, "/v1/cluster").json().path("leader").asText());
        }
        assertThat(seen).as("leaders seen").containsOnly(seen.get(0));
        assertThat(seen.get(0)).isIn("a", "b", "c");
      });
      status = get(servers.get(0), "/v1/cluster").json();
      String leader = status.get("leader").asText();
      // /v1/cluster as a hostile client sends it (the edge sweep runs on a single server, where it is a 404): other
      // methods are 405 with Allow, any body or a foreign Origin or Host changes nothing, errors are JSON.
      String url = servers.get(0).url() + "/v1/cluster";
      for (String m : List.of("POST", "PUT", "PATCH", "DELETE")) {
        for (String body : List.of("{}", "null", "{\"leader\": \"c\"}", "x".repeat(1 << 20))) {
          java.net.http.HttpResponse<String> res = TestServers.HTTP.send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create(url)).header("Content-Type", "application/json")
              .method(m, java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
          String what = m + " /v1/cluster -> " + res.statusCode() + " " + res.body();
          assertThat(res.statusCode()).as(what).isIn(405, 413);
          assertThat(res.body()).as(what).startsWith("{");
          if (res.statusCode() == 405) {
            assertThat(res.headers().firstValue("Allow")).as(what).hasValueSatisfying(a -> assertThat(a).contains("GET"));
          }
        }
      }
      java.net.http.HttpResponse<String> foreign = TestServers.HTTP.send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create(url)).header("Origin", "http://evil.example").GET().build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(foreign.statusCode()).as(foreign.body()).isBetween(400, 499);
      assertThat(foreign.body()).contains("Origin");
      JsonNode after = get(servers.get(0), "/v1/cluster").json();
      assertThat(after.get("members").findValuesAsText("id")).containsExactly("a", "b", "c");
      assertThat(after.get("leader").asText()).isEqualTo(leader);

      // One ledger: each node added its own ledger node; a reservation taken on one is seen on the others.
      assertThat(get(servers.get(2), "/v1/nodes").json().findValuesAsText("id"))
          .containsExactlyInAnyOrder("node-a", "node-b", "node-c");
      TestServers.Reply r = post(servers.get(1), "/v1/reservations", "{\"owner\": \"ext\", \"node\": \"node-b\", "
          + "\"cpu\": \"500m\", \"memory\": \"64MiB\", \"priority\": \"batch\", \"leaseSeconds\": 600}");
      assertThat(r.status()).as(r.body()).isEqualTo(201);
      long id = r.json().get("id").asLong();
      assertThat(get(servers.get(0), "/v1/reservations/" + id).json().get("owner").asText()).isEqualTo("ext");

      // Every replica has applied the reservation before the leader stops, as an operator checks in /v1/cluster
      // before taking a leader down: a replica that started after the election holds none of the log until the
      // leader's appends reach it, and in one run where they had not, the two survivors elected no leader for a
      // minute. The leader now reaches a replica within a few round trips of its listening, after any time away
      // (docs/cluster.md, "A follower the leader stops reaching"); before, it could send it only heartbeats for a
      // minute or more. The bound is the product's, with room for a loaded machine.
      long applied = get(servers.get(List.of("a", "b", "c").indexOf(leader)), "/v1/cluster").json()
          .get("commitIndex").asLong();
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        for (PenumbraServer s : servers) {
          assertThat(get(s, "/v1/cluster").json().get("appliedIndex").asLong()).isGreaterThanOrEqualTo(applied);
        }
      });
      // The leader's node stops; the other two elect a new leader and still hold the reservation.
      int l = List.of("a", "b", "c").indexOf(leader);
      servers.get(l).stop();
      List<PenumbraServer> rest = new ArrayList<>(servers);
      rest.remove(l);
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        JsonNode s = get(rest.get(0), "/v1/cluster").json();
        assertThat(s.get("leader").isNull()).isFalse();
        assertThat(s.get("leader").asText()).isNotEqualTo(leader);
      });
      assertThat(get(rest.get(1), "/v1/reservations/" + id).json().get("state").asText()).isIn("active", "warm");
      assertThat(get(rest.get(0), "/v1/cluster").json().get("term").asLong())
          .isGreaterThan(status.get("term").asLong());
    } finally {
      for (PenumbraServer s : servers) {
        s.stop();
      }
    }
  }

  @Test
  void badClusterSectionsAreRefusedAtLoadWithKeyAndValue() {
    assertThatThrownBy(() -> TestServers.config(env("c", "a=127.0.0.1:9001,b=127.0.0.1:9002", dir)))
        .isInstanceOf(ServerConfig.ConfigException.class)
        .hasMessageContaining("cluster.self = 'c'").hasMessageContaining("must include this node");
    assertThatThrownBy(() -> TestServers.config(env("a", "a=127.0.0.1:9001,a=127.0.0.1:9002", dir)))
        .hasMessageContaining("cluster.peers = 'a=127.0.0.1:9001,a=127.0.0.1:9002'")
        .hasMessageContaining("has the id 'a' twice");
    assertThatThrownBy(() -> TestServers.config(env("a", "a=127.0.0.1", dir)))
        .hasMessageContaining("cluster.peers = 'a=127.0.0.1'").hasMessageContaining("is not id=host:port");
    assertThatThrownBy(() -> TestServers.config(env("a", "a=127.0.0.1:99999", dir)))
        .hasMessageContaining("port of peer 'a' must be 1..65535, was 99999");
    Map<String, String> noPeers = env("a", "", dir);
    assertThatThrownBy(() -> TestServers.config(noPeers))
        .hasMessageContaining("cluster.self = 'a'").hasMessageContaining("without cluster.peers");
    Map<String, String> noDir = env("a", "a=127.0.0.1:9001", dir);
    noDir.put("PENUMBRA_CLUSTER_DATA_DIR", "");
    assertThatThrownBy(() -> TestServers.config(noDir)).hasMessageContaining("cluster.dataDir = ''");
    assertThat(TestServers.config(Map.of()).cluster().enabled()).isFalse();
  }

  @Test
  @Timeout(60)
  void aLoneNodeGivesUpNamingThePeersItCannotReach() throws Exception {
    String peers = "a=127.0.0.1:" + freePort() + ",b=127.0.0.1:" + freePort() + ",c=127.0.0.1:" + freePort();
    Map<String, String> e = env("a", peers, dir);
    e.put("PENUMBRA_CLUSTER_AWAIT_LEADER", "2s");
    ServerConfig cfg = TestServers.config(e);
    assertThatThrownBy(() -> PenumbraServer.builder(cfg).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no leader elected within PT2S")
        .hasMessageContaining("unreachable: [b at 127.0.0.1:").hasMessageContaining("c at 127.0.0.1:");
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
