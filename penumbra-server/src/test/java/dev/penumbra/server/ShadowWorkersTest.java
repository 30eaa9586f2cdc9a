package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.ManualClock;
import dev.penumbra.query.shadow.PlanFeatures;
import dev.penumbra.query.shadow.ShadowResult;
import dev.penumbra.query.shadow.ShadowSite;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The control plane's registry of shadow workers on its own: registration checks, expiry, local fallback. */
class ShadowWorkersTest {
  private final ManualClock clock = new ManualClock(Instant.parse("2026-11-30T00:00:00Z"));
  private final ShadowWorkers workers = new ShadowWorkers(clock, Duration.ofSeconds(2), 0.01, 42);

  @ParameterizedTest
  @ValueSource(strings = {"", "   ", "127.0.0.1:9000", "ftp://127.0.0.1:9000", "http://127.0.0.1",
      "http://127.0.0.1:70000", "http://127.0.0.1:9000/v1", "http://127.0.0.1:9000?x=1", "http://u@127.0.0.1:9000",
      "http://[::1:9000", "not a url"})
  void aBadWorkerUrlIsRefusedNamingTheFieldAndValue(String url) {
    assertThatThrownBy(() -> workers.register("w1", url, 0.01, 42, 2))
        .isInstanceOfSatisfying(ApiException.class, e -> {
          assertThat(e.status()).isEqualTo(400);
          assertThat(e.field()).isEqualTo("url");
          assertThat(e.value()).isEqualTo(url);
          assertThat(e.getMessage()).contains("http://HOST:PORT");
        });
    assertThat(workers.stats().workers()).isEmpty();
  }

  @Test
  void badIdsSlotsAndOtherDataAreRefusedNamingTheField() {
    assertThatThrownBy(() -> workers.register("w 1", "http://127.0.0.1:9000", 0.01, 42, 2))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.field()).isEqualTo("id"));
    assertThatThrownBy(() -> workers.register("w1", "http://127.0.0.1:9000", 0.01, 42, 0))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.field()).isEqualTo("slots"));
    assertThatThrownBy(() -> workers.register("w1", "http://127.0.0.1:9000", 0.1, 42, 2))
        .isInstanceOfSatisfying(ApiException.class, e -> {
          assertThat(e.status()).isEqualTo(409);
          assertThat(e.field()).isEqualTo("scale");
          assertThat(e.getMessage()).contains("scale 0.01");
        });
  }

  @Test
  void aWorkerIsDroppedWhenItsHeartbeatsStopAndKeptWhileTheyCome() {
    workers.register("w1", "http://127.0.0.1:9000/", 0.01, 42, 2);
    clock.advance(Duration.ofMillis(1500));
    workers.register("w1", "http://127.0.0.1:9000", 0.01, 42, 2); // heartbeat
    clock.advance(Duration.ofMillis(1500));
    assertThat(workers.stats().workers()).extracting(ShadowWorkers.WorkerView::url)
        .containsExactly("http://127.0.0.1:9000");
    clock.advance(Duration.ofMillis(600));
    ShadowWorkers.Stats s = workers.stats();
    assertThat(s.workers()).isEmpty();
    assertThat(s.dropped()).isEqualTo(1);
  }

  @Test
  void withNoWorkerUpShadowsRunLocally() {
    AtomicInteger local = new AtomicInteger();
    ShadowSite site = workers.around(counting(local));
    assertThat(site.shadow("SELECT 1", Duration.ofSeconds(1)).sql()).isEqualTo("SELECT 1");
    assertThat(local).hasValue(1);
    assertThat(workers.stats().local()).isEqualTo(1);
  }

  @Test
  void aWorkerThatDoesNotAnswerIsDroppedAndTheShadowRunsLocally() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    workers.register("gone", "http://127.0.0.1:" + port, 0.01, 42, 2);
    AtomicInteger local = new AtomicInteger();
    ShadowResult r = workers.around(counting(local)).shadow("SELECT 2", Duration.ofSeconds(1));
    assertThat(r.sql()).isEqualTo("SELECT 2");
    assertThat(local).hasValue(1);
    ShadowWorkers.Stats s = workers.stats();
    assertThat(s.workers()).isEmpty();
    assertThat(s.fellBack()).isEqualTo(1);
    assertThat(s.remote()).isZero();
  }

  @Test
  void aWorkerStartedWithABadControlPlaneUrlFailsNamingTheOption() {
    assertThatThrownBy(() -> ShadowWorker.start("w1", "localhost:8080", null, 2, TestServers.config(
        java.util.Map.of()), m -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--control-plane = 'localhost:8080'")
        .hasMessageContaining("http://HOST:PORT");
  }

  /** A local site that answers with a planned-only result and counts its calls. */
  private static ShadowSite counting(AtomicInteger calls) {
    return (sql, cap) -> {
      calls.incrementAndGet();
      return new ShadowResult(sql, 0.1, 0.1, Set.of(), new PlanFeatures(1, 1, 1, 1, 0, 0, 0, 0, 0, Set.of()),
          null, false, 0, 10, 1, 1, 1, true);
    };
  }
}
