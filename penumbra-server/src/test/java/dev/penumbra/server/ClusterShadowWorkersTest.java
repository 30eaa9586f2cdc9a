package dev.penumbra.server;

import static dev.penumbra.server.TestServers.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shadow workers across a failover of a replicated control plane: a worker that says hello to every node of
 * three {@code serve --cluster} servers is known to all of them; when the leader's node stops, the node that
 * takes over already lists the worker and keeps hearing from it, with nothing re-registered; the worker sees
 * which node stopped answering; its goodbye reaches the nodes still up.
 */
class ClusterShadowWorkersTest {

  @TempDir
  Path dir;

  private static Map<String, String> env(String self, String peers, Path dataDir) {
    return TestServers.clusterNode(self, peers, dataDir, Map.of("PENUMBRA_QUERY_ENGINE_INSTANCES", "1"));
  }

  /**
   * Ids of their own: Ratis keeps per-JVM state by peer id (a group of a, b and c stopped by another test of this
   * JVM left this one's followers without an election after the leader stopped).
   */
  private static final List<String> IDS = List.of("w-a", "w-b", "w-c");

  @Test
  @Timeout(240)
  void aWorkerHeardByEveryNodeIsKnownToTheNewLeaderWithoutRegisteringAgain() throws Exception {
    String peers = "w-a=127.0.0.1:" + freePort() + ",w-b=127.0.0.1:" + freePort() + ",w-c=127.0.0.1:" + freePort();
    List<CompletableFuture<PenumbraServer>> starting = new ArrayList<>();
    for (String self : IDS) {
      starting.add(CompletableFuture.supplyAsync(() ->
          PenumbraServer.builder(TestServers.config(env(self, peers, dir))).build().start()));
    }
    List<PenumbraServer> servers = new ArrayList<>();
    WorkerHeartbeat heartbeat = null;
    try {
      for (CompletableFuture<PenumbraServer> f : starting) {
        servers.add(f.get(180, TimeUnit.SECONDS));
      }
      List<URI> planes = WorkerHeartbeat.parse(String.join(",", servers.stream().map(PenumbraServer::url).toList()));
      assertThat(planes).hasSize(3);
      byte[] hello = ShadowWire.MAPPER.writeValueAsBytes(
          new ShadowWire.Hello("w1", "http://127.0.0.1:9", 0.01, ShadowWorker.SEED, 2));
      List<String> said = new CopyOnWriteArrayList<>();
      heartbeat = new WorkerHeartbeat("w1", planes, null, hello, Clock.systemUTC(), said::add);
      heartbeat.start(ShadowWorkers.HEARTBEAT);
      for (PenumbraServer s : servers) {
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(get(s, "/v1/shadow-workers").json().get("workers").findValuesAsText("id")).containsExactly("w1"));
      }
      // A leader elected (on a loaded machine the group may be between two at any moment).
      String leader = await().atMost(Duration.ofSeconds(60)).until(
          () -> get(servers.get(0), "/v1/cluster").json().path("leader").asText(""), id -> !id.isEmpty()
              && !id.equals("null"));
      int l = IDS.indexOf(leader);
      String stoppedUrl = servers.get(l).url();

      // The leader's node stops. The others elect a new leader, which lists the worker without its registering
      // again: it has heard from it since the stop, in the worker's ordinary heartbeat.
      servers.get(l).stop();
      Instant stopped = Instant.now();
      List<PenumbraServer> rest = new ArrayList<>(servers);
      rest.remove(l);
      String newLeader = await().atMost(Duration.ofSeconds(60)).until(
          () -> get(rest.get(0), "/v1/cluster").json().path("leader").asText(""), id -> !id.isEmpty()
              && !id.equals("null") && !id.equals(leader));
      PenumbraServer next = rest.stream().filter(s -> s.url().equals(url(servers, newLeader))).findFirst()
          .orElseThrow();
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        JsonNode w = get(next, "/v1/shadow-workers").json().get("workers").get(0);
        assertThat(w.get("id").asText()).isEqualTo("w1");
        assertThat(Instant.parse(w.get("lastSeen").asText())).isAfter(stopped);
      });
      assertThat(get(next, "/v1/shadow-workers").json().get("dropped").asLong()).isZero();

      // The worker knows which node stopped answering, says so once per kind of failure, and stays registered with
      // the others.
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(said).anyMatch(m -> m.contains(stoppedUrl) && m.contains("unreachable")));
      WorkerHeartbeat hb = heartbeat;
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        for (WorkerHeartbeat.Plane p : hb.planes()) {
          assertThat(p.registered()).as(p.url()).isEqualTo(!p.url().equals(stoppedUrl));
        }
      });
      assertThat(hb.planes().stream().filter(p -> p.url().equals(stoppedUrl)).findFirst().orElseThrow().lastError())
          .contains("unreachable");
      // Said once per kind of failure (the stopping node may answer 503 before it stops listening), not per heartbeat.
      assertThat(said.stream().filter(m -> m.contains(stoppedUrl)).count()).as(said.toString()).isBetween(1L, 2L);

      // Its goodbye reaches the nodes still up.
      heartbeat.close();
      heartbeat = null;
      for (PenumbraServer s : rest) {
        assertThat(get(s, "/v1/shadow-workers").json().get("workers").size()).isZero();
      }
    } finally {
      if (heartbeat != null) {
        heartbeat.close();
      }
      for (PenumbraServer s : servers) {
        s.stop();
      }
    }
  }

  @Test
  void badControlPlaneListsAreRefusedNamingTheOptionAndValue() {
    assertThat(WorkerHeartbeat.parse("http://127.0.0.1:8081")).containsExactly(URI.create("http://127.0.0.1:8081"));
    assertThat(WorkerHeartbeat.parse("http://a:1,http://b:2/")).containsExactly(URI.create("http://a:1"),
        URI.create("http://b:2"));
    assertThatThrownBy(() -> WorkerHeartbeat.parse(" ")).hasMessageContaining("--control-plane = ' '");
    assertThatThrownBy(() -> WorkerHeartbeat.parse("http://a:1,ftp://b:2"))
        .hasMessageContaining("--control-plane = 'http://a:1,ftp://b:2'").hasMessageContaining("'ftp://b:2'");
    assertThatThrownBy(() -> WorkerHeartbeat.parse("http://a:1,")).hasMessageContaining("--control-plane = "
        + "'http://a:1,'");
    assertThatThrownBy(() -> WorkerHeartbeat.parse("http://a:1,http://a:1/"))
        .hasMessageContaining("http://a:1 is given twice");
  }

  private static String url(List<PenumbraServer> servers, String id) {
    return servers.get(IDS.indexOf(id)).url();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
