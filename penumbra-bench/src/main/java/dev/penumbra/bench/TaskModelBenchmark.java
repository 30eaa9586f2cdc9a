package dev.penumbra.bench;

import dev.penumbra.core.Priority;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.task.Signal;
import dev.penumbra.task.TaskModel;
import dev.penumbra.task.TaskProfile;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-task prediction step of a task shadow: one sample of the five signals into the task's model (type
 * profile blend + time-aware Holt, scored) and the forecast of the next horizon. The sampler pays it for every
 * full sample of every running task. Target: < 20 µs; the overhead target (1,000 tasks every 10 ms in under 1%
 * of a core) needs it well under 1 µs.
 *
 * <p>Run: {@code ./mvnw -B -q -DskipTests package -pl penumbra-bench -am && java -jar
 * penumbra-bench/target/benchmarks.jar TaskModelBenchmark}
 *
 * <p>Run settings as ForecasterBenchmark's on purpose (ns per step, the same warm-up and measurement), so that the
 * two steps' figures compare; JMH reads them per class.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Thread)
public class TaskModelBenchmark {

  /** Whether the forecasts are recorded in an ErrorTracker (as the executor does when given one). */
  @Param({"false", "true"})
  public boolean scored;

  private static final int SAMPLES = 1 << 12;
  private static final int SIGNALS = Signal.values().length;
  private final double[][] samples = new double[SAMPLES][SIGNALS];
  private TaskModel model;
  private long time;
  private int i;

  @Setup(Level.Trial)
  public void setUp() {
    // A phased task sampled every 10 ms for 400 ms: memory ramps in steps, CPU bursts, an IO phase.
    SplittableRandom rnd = new SplittableRandom(42);
    TaskProfile profile = new TaskProfile("phased", Duration.ofMillis(10));
    for (int task = 0; task < 20; task++) {
      double[] peaks = new double[40 * SIGNALS];
      for (int b = 0; b < 40; b++) {
        double[] s = sample(b, rnd);
        System.arraycopy(s, 0, peaks, b * SIGNALS, SIGNALS);
      }
      profile.record(peaks);
    }
    for (int t = 0; t < SAMPLES; t++) {
      samples[t] = sample(t % 40, rnd);
    }
    model = scored
        ? new TaskModel(profile, Duration.ofMillis(50), Priority.STANDARD, new ErrorTracker())
        : new TaskModel(profile, Duration.ofMillis(50), Priority.STANDARD);
    for (int t = 0; t < 400; t++) {
      step();
    }
  }

  private static double[] sample(int bucket, SplittableRandom rnd) {
    double[] s = new double[SIGNALS];
    s[Signal.CPU.ordinal()] = (bucket % 10 < 2 ? 1800 : 200) * (0.9 + 0.2 * rnd.nextDouble());
    s[Signal.THREADS.ordinal()] = bucket % 10 < 2 ? 2 : 0;
    s[Signal.MEMORY.ordinal()] = (1 + bucket / 10) * 6.0 * (1 << 20);
    s[Signal.IO.ordinal()] = bucket >= 20 && bucket < 30 ? 4e8 * rnd.nextDouble() : 0;
    s[Signal.ALLOCATION.ordinal()] = 1e8 * rnd.nextDouble();
    return s;
  }

  private double step() {
    time += 10;
    model.observe(time, time % 400, samples[i]);
    i = (i + 1) & (SAMPLES - 1);
    model.forecast();
    return model.upper(Signal.MEMORY);
  }

  @Benchmark
  public double observeAndForecast() {
    return step();
  }
}
