package dev.penumbra.task;

import static dev.penumbra.task.Scripted.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TaskExecutorTest {

  private static final TaskSpec ETL = TaskSpec.of("etl", Priority.STANDARD);

  @Test
  void warmMemoryIsReadyBeforeTheScriptedStep() {
    Scripted w = new Scripted(Resources.of(16_000, 1L << 30));
    w.learned(ETL, 3);
    TaskRun run = w.start(ETL);
    TaskContext ctx = w.executor.context(run);
    w.tickFor(100);
    // Elapsed 100 ms, the step is due now: the memory is already reserved ahead and allocated.
    assertThat(w.warmBytes(run)).isGreaterThanOrEqualTo(8 * MIB);
    synchronized (run) {
      assertThat(run.memory.unfilled).isZero();
      assertThat(run.memory.inFlight).isZero();
      assertThat(run.memory.free).hasSizeGreaterThanOrEqualTo(8);
    }
    try (MemoryLease lease = ctx.memory(8 * MIB)) {
      assertThat(lease.bytes()).isEqualTo(8 * MIB);
      assertThat(run.hits).isEqualTo(1);
      assertThat(run.misses).isZero();
      assertThat(w.live(run.id)).filteredOn(r -> r.amount().memoryBytes() > 0)
          .extracting(Reservation::state).containsOnly(Reservation.State.ACTIVE);
    }
    w.executor.complete(run, null);
    assertThat(w.ledger.snapshot().reservations()).isEmpty();
    assertThat(w.executor.stats().warmUsed()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void withoutWarmingTheSameStepIsAMiss() {
    Scripted w = new Scripted(Resources.of(16_000, 1L << 30), b -> b.warming(false));
    w.learned(ETL, 3);
    Scripted.Step step = w.nextStep(ETL);
    assertThat(step.warmBytes()).isZero();
    assertThat(step.run().misses).isEqualTo(1);
    assertThat(w.ledger.snapshot().reservations()).isEmpty();
  }

  @Test
  void unusedHeadroomIsReclaimedByTheLoopsAdjusterAfterTheGracePeriod() {
    Scripted w = new Scripted(Resources.of(16_000, 1L << 30));
    w.learned(ETL, 3);
    TaskRun run = w.start(ETL);
    long warmedAt = -1;
    long reclaimedAt = -1;
    long start = w.clock.millis();
    // The task never takes the memory its type takes at 100 ms.
    while (w.clock.millis() - start < 1000 && reclaimedAt < 0) {
      w.executor.tick();
      long warm = w.warmBytes(run);
      if (warmedAt < 0 && warm >= 8 * MIB) {
        warmedAt = w.clock.millis();
      } else if (warmedAt >= 0 && warm == 0) {
        reclaimedAt = w.clock.millis();
      }
      w.clock.advance(Duration.ofMillis(10));
    }
    assertThat(warmedAt).isNotNegative();
    assertThat(reclaimedAt).isNotNegative();
    // Held at least for the grace period after it was warmed, and reclaimed within two adjuster periods of it.
    assertThat(reclaimedAt - warmedAt).isGreaterThanOrEqualTo(200).isLessThanOrEqualTo(600);
    assertThat(w.executor.stats().graceReleases()).isGreaterThanOrEqualTo(1);
    // The reservation itself lives on (the task's base), only the headroom went.
    assertThat(w.live(run.id)).hasSize(1);
    w.executor.complete(run, null);
    assertThat(w.ledger.snapshot().reservations()).isEmpty();
  }

  @Test
  void prefetchHookIsCalledWithTheWarmUpAndAThrowingHookLeaksNothing() {
    Scripted w = new Scripted(Resources.of(16_000, 1L << 30));
    w.learned(ETL, 3);
    AtomicInteger calls = new AtomicInteger();
    TaskRun good = w.start(ETL.withPrefetch((id, predicted) -> {
      assertThat(predicted.memoryBytes()).isGreaterThanOrEqualTo(8 * MIB);
      calls.incrementAndGet();
    }));
    w.tickFor(100);
    assertThat(calls.get()).isGreaterThanOrEqualTo(1);
    w.executor.complete(good, null);

    TaskRun bad = w.start(ETL.withPrefetch((id, predicted) -> {
      throw new IllegalStateException("cache is down");
    }));
    for (long e = 0; e < 100; e += 10) {
      w.executor.tick();
      assertThat(w.warmBytes(bad)).isZero();
      w.clock.advance(Duration.ofMillis(10));
    }
    assertThat(w.executor.stats().hookFailures()).isGreaterThanOrEqualTo(1);
    // The task goes on: its request is granted on the spot.
    w.executor.context(bad).memory(8 * MIB).close();
    w.executor.complete(bad, null);
    assertThat(w.ledger.snapshot().reservations()).isEmpty();
  }

  @Test
  void aTypesPrefetchHookRunsOnlyWhileItTakesAtLeastWarmAboveAndIsReMeasuredOnceInEight() {
    Scripted w = new Scripted(Resources.of(16_000, 1L << 30), b -> b.warmAbove(Duration.ofMillis(2)));
    Warmer warmer = w.executor.warmer();
    assertThat(warmer.prefetchWorthRunning("io")).as("nothing measured yet").isTrue();
    // Data already cached: the hook takes half a millisecond, faster than the task would notice.
    warmer.prefetchTook("io", Duration.ofMillis(1).toNanos() / 2);
    int ran = 0;
    for (int i = 0; i < 16; i++) {
      ran += warmer.prefetchWorthRunning("io") ? 1 : 0;
    }
    assertThat(ran).isEqualTo(2);
    assertThat(w.executor.stats().prefetchSkipped()).isEqualTo(14);
    assertThat(warmer.prefetchWorthRunning("etl")).as("per type").isTrue();
    // The data went cold: fetching takes 50 ms, and the hook runs for every task again.
    for (int i = 0; i < 3; i++) {
      warmer.prefetchTook("io", Duration.ofMillis(50).toNanos());
    }
    for (int i = 0; i < 8; i++) {
      assertThat(warmer.prefetchWorthRunning("io")).isTrue();
    }
  }

  @Test
  void rejectFallbackFailsClearlyAndLeaksNothing() {
    Scripted w = new Scripted(Resources.of(4_000, 4 * MIB), b -> b.fallback(Priority.BATCH, Fallback.REJECT));
    TaskRun run = w.start(TaskSpec.of("scan", Priority.BATCH));
    TaskContext ctx = w.executor.context(run);
    assertThatThrownBy(() -> ctx.memory(8 * MIB))
        .isInstanceOf(ResourceUnavailableException.class)
        .hasMessageContaining("task " + run.id)
        .hasMessageContaining("memory=8MiB")
        .hasMessageContaining("REJECT");
    assertThat(w.executor.stats().rejected()).isEqualTo(1);
    w.executor.complete(run, new ResourceUnavailableException("x"));
    assertThat(w.ledger.snapshot().reservations()).isEmpty();
  }

  @Test
  void degradeFallbackRunsThreadWorkOnFewerThreads() {
    Scripted w = new Scripted(Resources.of(2_000, 64 * MIB));
    TaskRun run = w.start(TaskSpec.of("crunch", Priority.BATCH));
    AtomicInteger ran = new AtomicInteger();
    int threads = w.executor.context(run).parallel(3, ran::incrementAndGet);
    assertThat(threads).isEqualTo(1);
    assertThat(ran.get()).isEqualTo(1);
    assertThat(w.executor.stats().degraded()).isEqualTo(1);
    w.executor.complete(run, null);
    assertThat(w.ledger.snapshot().reservations()).isEmpty();
  }

  @Test
  void queueFallbackWaitsThenTimesOutNamingTheRequest() {
    Scripted w = new Scripted(Resources.of(4_000, 4 * MIB), b -> b.queueTimeout(Duration.ofMillis(30)));
    TaskRun run = w.start(TaskSpec.of("scan", Priority.STANDARD));
    assertThatThrownBy(() -> w.executor.context(run).memory(8 * MIB))
        .isInstanceOf(ResourceUnavailableException.class)
        .hasMessageContaining("waited")
        .hasMessageContaining("memory=8MiB");
    assertThat(w.executor.stats().queued()).isEqualTo(1);
    assertThat(w.executor.stats().rejected()).isEqualTo(1);
    w.executor.complete(run, null);
    assertThat(w.ledger.snapshot().reservations()).isEmpty();
  }

  @Test
  void requestsYieldOtherTasksIdleWarmReservations() {
    Scripted w = new Scripted(Resources.of(16_000, 24 * MIB));
    w.learned(ETL, 3);
    TaskRun warmOne = w.start(ETL);
    w.tickFor(90);
    long warm = w.warmBytes(warmOne);
    assertThat(warm).isGreaterThanOrEqualTo(8 * MIB);
    TaskRun other = w.start(TaskSpec.of("big", Priority.STANDARD));
    // One block more than is free: it fits only when the idle warm reservation gives way.
    long ask = 24 * MIB - warm + MIB;
    try (MemoryLease lease = w.executor.context(other).memory(ask)) {
      assertThat(lease.bytes()).isEqualTo(ask);
    }
    assertThat(w.warmBytes(warmOne)).isZero();
    assertThat(w.executor.stats().yielded()).isGreaterThanOrEqualTo(1);
    w.executor.complete(warmOne, null);
    w.executor.complete(other, null);
    assertThat(w.ledger.snapshot().reservations()).isEmpty();
  }

  @Test
  void badInputIsRejectedNamingFieldAndValue() {
    Scripted w = new Scripted(Resources.of(4_000, 64 * MIB));
    assertThatThrownBy(() -> w.executor.submit(null, ctx -> { }))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("spec");
    assertThatThrownBy(() -> w.executor.submit(ETL, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("body of task type 'etl'");
    TaskRun run = w.start(ETL);
    TaskContext ctx = w.executor.context(run);
    assertThatThrownBy(() -> ctx.memory(0)).hasMessage("memory bytes must be > 0, was 0");
    assertThatThrownBy(() -> ctx.parallel(0, () -> { })).hasMessage("threads must be in 1..256, was 0");
    assertThatThrownBy(() -> ctx.progress(1.5)).hasMessage("progress must be in [0, 1], was 1.5");
    w.executor.complete(run, null);
    assertThatThrownBy(() -> ctx.memory(1)).isInstanceOf(IllegalStateException.class).hasMessageContaining("has ended");
    assertThat(w.ledger.snapshot().reservations()).isEmpty();

    assertThatThrownBy(() -> TaskExecutor.builder(w.ledger, "nope"))
        .hasMessage("node 'nope' is not in the ledger");
    assertThatThrownBy(() -> TaskExecutor.builder(w.ledger, "jvm").interval(Duration.ZERO))
        .hasMessageContaining("interval must be in").hasMessageContaining("was PT0S");
    assertThatThrownBy(() -> TaskExecutor.builder(w.ledger, "jvm").blockSize(10))
        .hasMessage("blockSize must be in [4096, 67108864] bytes, was 10");
    assertThatThrownBy(() -> TaskExecutor.builder(w.ledger, "jvm").maxStride(0))
        .hasMessage("maxStride must be in 1..64, was 0");
  }

  @Test
  void stableTasksAreSampledLessOften() {
    Scripted w = new Scripted(Resources.of(16_000, 1L << 30));
    TaskRun run = w.start(ETL);
    w.tickFor(1000);
    TaskStats s = w.executor.stats();
    assertThat(s.taskSteps()).isEqualTo(100);
    // A flat task doubles its stride up to 32: far fewer full samples than ticks.
    assertThat(s.fullSamples()).isLessThan(12);
    assertThat(run.stride).isEqualTo(32);
    // A jump in held memory beyond the forecast is seen at the next tick.
    w.executor.context(run).memory(4 * MIB);
    long before = w.executor.stats().fullSamples();
    w.executor.tick();
    assertThat(w.executor.stats().fullSamples()).isEqualTo(before + 1);
    w.executor.complete(run, null);
  }
}
