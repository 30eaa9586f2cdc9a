package dev.penumbra.task;

import static dev.penumbra.task.Scripted.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.loop.ControlLoop;
import dev.penumbra.core.loop.LoopStats;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The executor as an instance of the core control loop: its grants, its baseline guard, what it warms. */
class TaskLoopTest {

  private static final TaskSpec ETL = TaskSpec.of("etl", Priority.STANDARD);

  @Test
  void everyTaskIsAGrantOfTheLoopAndItsResourceTimeIsAccounted() {
    Scripted w = new Scripted(Resources.of(16_000, 1L << 30));
    w.learned(ETL, 3);
    LoopStats s = w.executor.loopStats();
    assertThat(s.loop()).isEqualTo("task");
    assertThat(s.placed()).isEqualTo(3);
    assertThat(s.completed()).isEqualTo(3);
    assertThat(s.live()).isZero();
    assertThat(s.guard().baseline()).isEqualTo("grant-on-request");
    // Each task used 8 MiB for 100 ms: 0.8 MiB-seconds, 2.4 in all.
    assertThat(s.used().memoryByteSeconds()).isCloseTo(3 * 8 * MIB * 0.1, org.assertj.core.api.Assertions.within(1.0));
    assertThat(s.reserved().memoryByteSeconds()).isGreaterThanOrEqualTo(s.used().memoryByteSeconds());
    assertThat(w.ledger.snapshot().reservations()).isEmpty();
  }

  @Test
  void whatAReactiveGrantDeliversBeforeTheTaskWouldNoticeIsNotWarmed() {
    // Reactive grants here take far less than a second: nothing is worth warming ahead.
    Scripted w = new Scripted(Resources.of(16_000, 1L << 30), b -> b.warmAbove(Duration.ofSeconds(1)));
    w.learned(ETL, 3);
    TaskRun run = w.start(ETL);
    for (long e = 0; e < 100; e += 10) {
      w.executor.tick();
      assertThat(w.warmBytes(run)).isZero();
      w.clock.advance(Duration.ofMillis(10));
    }
    assertThat(w.executor.stats().warmed()).isZero();
    w.executor.complete(run, null);
  }

  @Test
  void theGuardHandsOverToGrantOnRequestWhenWarmingOnlyCosts() {
    // Nothing is contended, so a grant never waits for capacity: the memory Penumbra holds ahead costs more than
    // grant on request, which is short of nothing.
    Scripted w = new Scripted(Resources.of(16_000, 1L << 30));
    w.learned(ETL, 14);
    LoopStats.Guard guard = w.executor.loopStats().guard();
    assertThat(guard.scored()).isGreaterThanOrEqualTo(20);
    assertThat(guard.penumbraCost()).isGreaterThan(guard.baselineCost());
    assertThat(guard.acting()).isEqualTo(ControlLoop.Rule.BASELINE);
    // Acting on grant on request: the next task is not warmed, its step is granted when asked.
    Scripted.Step step = w.nextStep(ETL);
    assertThat(step.warmBytes()).isZero();
    assertThat(step.run().misses).isEqualTo(1);
    assertThat(w.ledger.snapshot().reservations()).isEmpty();
  }

  @Test
  void admissionReservesTheTypesComingPeakSoPeaksDoNotCollide() {
    // A lead of 150 ms covers the step tasks of the type take at 100 ms: a task is admitted with it held.
    Scripted w = new Scripted(Resources.of(16_000, 12 * MIB),
        b -> b.horizon(Duration.ofMillis(150)).fallback(Priority.STANDARD, Fallback.REJECT));
    w.learned(ETL, 3);
    TaskRun first = w.start(ETL);
    assertThat(w.live(first.id)).singleElement()
        .satisfies(r -> assertThat(r.amount().memoryBytes()).isGreaterThanOrEqualTo(8 * MIB));
    // A second task of the type would collide at its peak: it is not admitted while the first holds its own.
    assertThatThrownBy(() -> w.start(ETL)).isInstanceOf(ResourceUnavailableException.class)
        .hasMessageContaining("REJECT");
    // The first one's step is a hit.
    w.executor.context(first).memory(8 * MIB).close();
    assertThat(first.hits).isEqualTo(1);
    assertThat(first.misses).isZero();
    w.executor.complete(first, null);
    assertThat(w.ledger.snapshot().reservations()).isEmpty();
  }
}
