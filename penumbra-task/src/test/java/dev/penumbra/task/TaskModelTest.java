package dev.penumbra.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.penumbra.core.Demand;
import dev.penumbra.core.Priority;
import dev.penumbra.core.feedback.ErrorTracker;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TaskModelTest {

  private static final int MEM = Signal.MEMORY.ordinal();

  /** A profile of tasks holding {@code level} from bucket 0 to 29 (10 ms buckets), with a little noise. */
  private static TaskProfile flatProfile(double level, int tasks) {
    TaskProfile p = new TaskProfile("flat", Duration.ofMillis(10));
    SplittableRandom rnd = new SplittableRandom(7);
    for (int t = 0; t < tasks; t++) {
      double[] peaks = new double[30 * Signal.COUNT];
      for (int b = 0; b < 30; b++) {
        peaks[b * Signal.COUNT + MEM] = level * (1 + 0.02 * (rnd.nextDouble() - 0.5));
      }
      p.record(peaks);
    }
    return p;
  }

  private static double[] memory(double v) {
    double[] x = new double[Signal.COUNT];
    x[MEM] = v;
    return x;
  }

  @Test
  void weightShiftsToRealTimeWithinThreeSamplesOfADeviation() {
    TaskModel m = new TaskModel(flatProfile(10, 10), Duration.ofMillis(50), Priority.STANDARD);
    long t = 0;
    for (int i = 0; i < 10; i++, t += 10) {
      m.observe(t, t, memory(10));
      m.forecast();
    }
    assertThat(m.realTimeWeight(Signal.MEMORY)).isLessThanOrEqualTo(0.2);
    assertThat(m.point(Signal.MEMORY)).isCloseTo(10, within(0.5));
    // The task deviates: it holds four times what its type holds.
    for (int i = 0; i < 3; i++, t += 10) {
      m.observe(t, t, memory(40));
      m.forecast();
    }
    assertThat(m.realTimeWeight(Signal.MEMORY)).isGreaterThanOrEqualTo(0.8);
    assertThat(m.point(Signal.MEMORY)).isGreaterThan(30);
  }

  @Test
  void profileForesightCoversAStepBeforeItHappens() {
    TaskProfile p = new TaskProfile("step", Duration.ofMillis(10));
    double[] peaks = new double[20 * Signal.COUNT];
    for (int b = 10; b < 20; b++) {
      peaks[b * Signal.COUNT + MEM] = 100;
    }
    p.record(peaks);
    TaskModel m = new TaskModel(p, Duration.ofMillis(50), Priority.STANDARD);
    for (long t = 0; t <= 60; t += 10) {
      m.observe(t, t, memory(0));
      m.forecast();
    }
    // At 60 ms the window [60, 110] holds the step at 100 ms; real time alone would say 0.
    assertThat(m.point(Signal.MEMORY)).isEqualTo(100);
    assertThat(m.upper(Signal.MEMORY)).isGreaterThanOrEqualTo(100);
  }

  @Test
  void theBandIsTheTypesResidualQuantileAndTheDemandCarriesIt() {
    TaskProfile p = new TaskProfile("band", Duration.ofMillis(10));
    TaskModel m = new TaskModel(p, Duration.ofMillis(50), Priority.STANDARD);
    for (long t = 0; t <= 50; t += 10) {
      m.observe(t, t, memory(50));
      m.forecast();
    }
    // Too few residuals of the type: a cold band, flagged in the demand.
    assertThat(m.demand().lowConfidence()).isTrue();
    for (Signal s : Signal.values()) {
      for (int i = 0; i < 100; i++) {
        p.residual(s, i);
      }
    }
    m.observe(60, 60, memory(50));
    m.forecast();
    double point = m.point(Signal.MEMORY);
    assertThat(point).isCloseTo(50, within(0.5));
    // Standard priority bounds at 0.9: the ceil(0.9 * 101) = 91st smallest residual of 0..99 and more.
    assertThat(m.upper(Signal.MEMORY) - point).isCloseTo(90, within(1.0));
    Demand d = m.demand();
    assertThat(d.lowConfidence()).isFalse();
    assertThat(d.at(0.99).memoryBytes()).isEqualTo((long) Math.ceil(point + 99));
    assertThat(d.at(0.9).memoryBytes()).isLessThan(d.at(0.99).memoryBytes());
    assertThat(p.band(Signal.MEMORY, 0.9)).isEqualTo(90);
  }

  @Test
  void withoutProfileRealTimeHasAllTheWeightAndFollowsARamp() {
    TaskModel m = new TaskModel(new TaskProfile("new", Duration.ofMillis(10)), Duration.ofMillis(30), Priority.STANDARD);
    for (long t = 0; t <= 200; t += 10) {
      m.observe(t, t, memory(t));
      m.forecast();
    }
    assertThat(m.realTimeWeight(Signal.MEMORY)).isEqualTo(1);
    // The slope is per millisecond: 30 ms ahead of 200 is about 230.
    assertThat(m.point(Signal.MEMORY)).isBetween(215.0, 240.0);
  }

  @Test
  void forecastsAreScoredAtTheirHorizon() {
    ErrorTracker tracker = new ErrorTracker();
    TaskModel m = new TaskModel(flatProfile(10, 3), Duration.ofMillis(20), Priority.STANDARD, tracker);
    for (long t = 0; t < 500; t += 10) {
      m.observe(t, t % 300, memory(10));
      m.forecast();
    }
    assertThat(tracker.stats("task:flat/memory").count()).isGreaterThan(10);
  }

  @Test
  void badSamplesThrowAndChangeNothing() {
    TaskModel m = new TaskModel(flatProfile(10, 1), Duration.ofMillis(50), Priority.STANDARD);
    m.observe(100, 0, memory(10));
    assertThatThrownBy(() -> m.observe(90, 0, memory(10))).hasMessage("timeMillis must not go back, was 90 after 100");
    assertThatThrownBy(() -> m.observe(110, 0, memory(-1))).hasMessage("memory must be finite and >= 0, was -1.0");
    assertThatThrownBy(() -> m.observe(110, 0, new double[2])).hasMessage("values must hold 5 signals, was 2");
    assertThatThrownBy(() -> m.observe(110, -1, memory(1))).hasMessage("elapsedMillis must be >= 0, was -1");
    assertThat(m.observations()).isEqualTo(1);
    assertThatThrownBy(() -> new TaskModel(null, Duration.ofMillis(1), Priority.BATCH)).hasMessage("profile is missing");
    assertThatThrownBy(() -> new TaskModel(flatProfile(1, 1), Duration.ZERO, Priority.BATCH))
        .hasMessage("horizon must be in [1ms, 1h], was PT0S");
  }

  @Test
  void profileAveragesTasksAndCountsEndedTasksAsZero() {
    TaskProfile p = new TaskProfile("avg", Duration.ofMillis(10));
    double[] a = new double[2 * Signal.COUNT];
    a[MEM] = 10;
    a[Signal.COUNT + MEM] = 10;
    double[] b = new double[Signal.COUNT];
    b[MEM] = 20;
    p.record(a);
    p.record(b);
    assertThat(p.expected(Signal.MEMORY, 5)).isEqualTo(15);
    assertThat(p.expected(Signal.MEMORY, 15)).isEqualTo(5);
    assertThat(p.expected(Signal.MEMORY, 999)).isZero();
    assertThat(p.tasks()).isEqualTo(2);
    assertThatThrownBy(() -> new TaskProfile(" ", Duration.ofMillis(1))).hasMessage("type must be non-blank, was ' '");
  }

  @Test
  void specValidationNamesFieldAndValue() {
    assertThatThrownBy(() -> TaskSpec.of("bad type", Priority.BATCH))
        .hasMessage("type must be 1-64 letters, digits, '.', '_' or '-', was 'bad type'");
    assertThatThrownBy(() -> TaskSpec.of("t", null)).hasMessage("priority of task type 't' is missing");
    assertThatThrownBy(() -> TaskSpec.of("t", Priority.BATCH).withBase(dev.penumbra.core.Resources.cpu(1500)))
        .hasMessage("base.cpuMillis must be a multiple of 1000 (whole worker threads), was 1500");
    assertThatThrownBy(() -> TaskSpec.of("t", Priority.BATCH).withBase(new dev.penumbra.core.Resources(0, 0, 5, 0)))
        .hasMessageContaining("grants only cpu and memory");
  }
}
