package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A capability's wait for its work to drain is woken by the work ending, not by polling, and ends at its grace. */
class LoopViewIdleTest {

  @Test
  void theWaitEndsWhenTheLastWorkSignalsItsEnd() throws Exception {
    AtomicInteger inFlight = new AtomicInteger(2);
    LoopView view = LoopView.of("demo", new Timeline("cpu", "millicores", 10)).inFlight(inFlight::get).build();
    CountDownLatch waiting = new CountDownLatch(1);
    CompletableFuture<Boolean> idle = CompletableFuture.supplyAsync(() -> {
      waiting.countDown();
      try {
        // An hour: only a wake-up from changed() ends this wait within the test's timeout.
        return view.awaitIdle(Duration.ofHours(1));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    waiting.await();
    inFlight.decrementAndGet();
    view.changed();
    assertThat(idle).isNotDone();
    inFlight.decrementAndGet();
    view.changed();
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThat(idle.get()).isTrue());
  }

  @Test
  void theWaitGivesUpAtItsGraceWhileWorkRuns() throws Exception {
    LoopView view = LoopView.of("demo", new Timeline("cpu", "millicores", 10)).inFlight(() -> 1).build();
    assertThat(view.awaitIdle(Duration.ofMillis(20))).isFalse();
    assertThat(view.awaitIdle(Duration.ZERO)).isFalse();
  }

  @Test
  void nothingInFlightIsIdleAtOnce() throws Exception {
    LoopView view = LoopView.of("demo", new Timeline("cpu", "millicores", 10)).build();
    assertThat(view.awaitIdle(Duration.ZERO)).isTrue();
  }
}
