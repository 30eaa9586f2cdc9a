package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.penumbra.server.TestServers.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ShutdownTest {

  @Test
  void stopRefusesNewWorkLetsRunningFinishAndLeavesNothingReserved() throws Exception {
    PenumbraServer server = TestServers.started(Map.of());
    String url = server.url();
    // A manual reservation nobody releases, and queries running while the stop begins.
    Reply held = TestServers.post(server, "/v1/reservations", "{\"owner\": \"left\", \"memory\": \"32MiB\"}");
    assertThat(held.status()).isEqualTo(201);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<Reply>> running = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      running.add(pool.submit(() -> TestServers.post(server, "/v1/queries",
          "{\"sql\": \"SELECT l_returnflag, sum(l_quantity) FROM lineitem GROUP BY 1\", \"priority\": \"batch\"}")));
    }
    // The stop begins while they run (or, on a fast machine, once they ended: nothing may be left reserved either way).
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(2))
        .until(() -> server.inFlight() > 0 || running.stream().allMatch(Future::isDone));
    Thread stopper = new Thread(server::stop);
    stopper.start();
    // While stopping: commands get 503 with a JSON error, reads still answer.
    AtomicReference<Reply> probe = new AtomicReference<>();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(1)).until(() -> {
      if (!stopper.isAlive()) {
        return true;
      }
      Reply r = TestServers.post(server, "/v1/queries", "{\"sql\": \"SELECT 1\"}");
      if (r.status() == 503) {
        probe.set(r);
        return true;
      }
      return false;
    });
    Reply refused = probe.get();
    stopper.join();
    pool.shutdown();
    for (Future<Reply> f : running) {
      Reply r;
      try {
        r = f.get();
      } catch (java.util.concurrent.ExecutionException e) {
        continue; // the connection closed as HTTP stopped: the query was admitted before and has finished
      }
      assertThat(r.status()).as(r.body()).isIn(200, 503);
    }
    if (refused != null) {
      assertThat(refused.json().get("error").asText()).contains("stopping");
    }
    assertThat(server.ledger().snapshot().reservations()).isEmpty();
    assertThat(server.ready()).isFalse();
    assertThat(url).startsWith("http://127.0.0.1:");
  }

  @Test
  void stoppingRefusesCommandsWith503() throws Exception {
    PenumbraServer server = TestServers.started(Map.of());
    try {
      server.stop();
      assertThat(server.ledger().snapshot().reservations()).isEmpty();
    } finally {
      server.close();
    }
    // Admission is checked before any work: a command arriving after stop() began is refused.
    PenumbraServer other = TestServers.started(Map.of());
    try {
      other.stopAdmitting();
      Reply r = TestServers.post(other, "/v1/reservations", "{\"owner\": \"late\", \"memory\": \"1MiB\"}");
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.json().get("error").asText()).contains("stopping");
      assertThat(TestServers.get(other, "/ready").status()).isEqualTo(503);
      assertThat(other.ledger().snapshot().reservations()).isEmpty();
    } finally {
      other.close();
    }
  }
}
