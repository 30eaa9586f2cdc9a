package dev.penumbra.task;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PhaseAdmissionTest {

  /** The plan consulted for every task: what most cases here look at. */
  private static TaskExecutor.Builder phased(TaskExecutor.Builder b) {
    return b.phasedAdmission(true).planWhenContended(false);
  }

  private static final TaskSpec RAMP = TaskSpec.of("ramp", Priority.STANDARD);

  /** Tasks of type ramp take 24 MiB at 50 ms and end at 100 ms; the node holds 40 MiB: two peaks do not fit. */
  private static Scripted taught() {
    Scripted s = new Scripted(Resources.of(32_000, 40 * Scripted.MIB), PhaseAdmissionTest::phased);
    for (int i = 0; i < 5; i++) {
      s.typical(RAMP, 50, 24 * Scripted.MIB, 100);
    }
    s.executor.tick();
    assertThat(s.executor.profiles().get("ramp").tasks()).isEqualTo(5);
    return s;
  }

  @Test
  void aTaskWhosePeakWouldMeetARunningTasksPeakWaitsUntilTheirPhasesMiss() {
    Scripted s = taught();
    TaskRun first = s.start(RAMP);
    TaskRun second = s.executor.register(RAMP, 42);
    // Both would hold 24 MiB from 50 ms on: 48 of 40 MiB.
    assertThat(s.executor.admissible(second)).isFalse();
    s.clock.advance(Duration.ofMillis(60));
    // The first is past its step and ends at 100 ms; the second's step comes at 50 ms of its own life: after that.
    assertThat(s.executor.admissible(second)).isTrue();
    s.executor.complete(first, null);
    s.executor.complete(second, null);
  }

  @Test
  void noTaskStartsWhileARunningTaskWaitsForMemory() {
    Scripted s = taught();
    TaskRun first = s.start(RAMP);
    s.clock.advance(Duration.ofMillis(60));
    TaskRun second = s.executor.register(RAMP, 42);
    assertThat(s.executor.admissible(second)).isTrue();
    first.starved = true;
    assertThat(s.executor.admissible(second)).isFalse();
    first.starved = false;
    s.executor.complete(first, null);
    s.executor.complete(second, null);
  }

  @Test
  void aTaskRunningAboveItsTypeIsExpectedToGoOnSo() {
    Scripted s = new Scripted(Resources.of(32_000, 40 * Scripted.MIB), PhaseAdmissionTest::phased);
    for (int i = 0; i < 5; i++) {
      s.typical(RAMP, 0, 12 * Scripted.MIB, 100);
    }
    s.executor.tick();
    TaskRun typical = s.start(RAMP);
    MemoryLease own = s.executor.context(typical).memory(12 * Scripted.MIB);
    TaskRun next = s.executor.register(RAMP, 43);
    // 12 + 12 of 40 MiB.
    assertThat(s.executor.admissible(next)).isTrue();
    // Another takes 20 MiB, 5/3 of its type: it keeps them to its type's end, 12 + 20 + 12 > 40.
    TaskRun deviant = s.start(RAMP);
    MemoryLease big = s.executor.context(deviant).memory(20 * Scripted.MIB);
    assertThat(s.executor.admissible(next)).isFalse();
    s.clock.advance(Duration.ofMillis(30));
    assertThat(s.executor.admissible(next)).as("what it holds counts to its type's end").isFalse();
    big.close();
    own.close();
    s.executor.complete(deviant, null);
    s.executor.complete(typical, null);
    assertThat(s.executor.admissible(next)).isTrue();
    s.executor.complete(next, null);
  }

  @Test
  void whenContendedOnlyThePlanActsOnlyWhileGrantsOnRequestWaitForMemory() {
    Scripted s = new Scripted(Resources.of(32_000, 40 * Scripted.MIB),
        b -> b.phasedAdmission(true).planWhenContended(true).warmAbove(Duration.ofMillis(2)));
    for (int i = 0; i < 5; i++) {
      s.typical(RAMP, 50, 24 * Scripted.MIB, 100);
    }
    s.executor.tick();
    TaskRun first = s.start(RAMP);
    TaskRun second = s.executor.register(RAMP, 42);
    // The peaks would collide (see above), but no grant on request has waited: the baseline's rule, start at once.
    assertThat(s.executor.admissible(second)).isTrue();
    s.executor.pool().measuredLag(Units.Kind.MEMORY, Duration.ofMillis(1).toNanos());
    assertThat(s.executor.admissible(second)).as("grants wait less than warmAbove").isTrue();
    s.executor.pool().measuredLag(Units.Kind.MEMORY, Duration.ofMillis(300).toNanos());
    assertThat(s.executor.admissible(second)).as("grants wait: the plan acts").isFalse();
    s.clock.advance(Duration.ofMillis(60));
    assertThat(s.executor.admissible(second)).isTrue();
    s.executor.complete(first, null);
    s.executor.complete(second, null);
  }

  @Test
  void withoutAProfileOrAloneATaskStarts() {
    Scripted s = new Scripted(Resources.of(32_000, 40 * Scripted.MIB), PhaseAdmissionTest::phased);
    TaskRun first = s.start(RAMP);
    TaskRun second = s.executor.register(RAMP, 42);
    assertThat(s.executor.admissible(second)).as("no profile yet: as grant on request").isTrue();
    s.executor.complete(first, null);
    s.executor.complete(second, null);
  }
}
