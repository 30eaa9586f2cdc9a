package dev.penumbra.bench;

import dev.penumbra.core.forecast.Forecast;
import dev.penumbra.core.forecast.Forecaster;
import dev.penumbra.core.forecast.Forecasters;
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
 * The cost of one forecaster step — observe a value, forecast one step ahead with its p90 bound — which a
 * task shadow pays every 10-50 ms per task. Targets: <= 1 µs for EWMA/Holt, <= 20 µs for the ensemble.
 *
 * <p>Run: {@code ./mvnw -B -q -DskipTests package -pl penumbra-bench -am && java -jar
 * penumbra-bench/target/benchmarks.jar ForecasterBenchmark}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Thread)
public class ForecasterBenchmark {

  @Param({"last-value", "ewma", "holt", "holt-winters", "ar", "decaying-histogram", "ensemble"})
  public String model;

  private static final int SERIES = 1 << 14;
  private final double[] values = new double[SERIES];
  private Forecaster forecaster;
  private long time;
  private int i;

  @Setup(Level.Trial)
  public void setUp() {
    // A daily-seasonal series with noise and bursts, like the CPU traces Penumbra replays (5-minute steps).
    SplittableRandom rnd = new SplittableRandom(42);
    for (int t = 0; t < SERIES; t++) {
      double season = 40 + 25 * Math.sin(2 * Math.PI * t / 288.0);
      double burst = rnd.nextDouble() < 0.01 ? 40 : 0;
      values[t] = Math.max(0, season + burst + rnd.nextDouble() * 8 - 4);
    }
    forecaster = switch (model) {
      case "last-value" -> Forecasters.lastValue();
      case "ewma" -> Forecasters.ewma(0.3);
      case "holt" -> Forecasters.holt(0.5, 0.1);
      case "holt-winters" -> Forecasters.holtWinters();
      case "ar" -> Forecasters.ar(3);
      case "decaying-histogram" -> Forecasters.decayingHistogram(144, 0.9);
      case "ensemble" -> Forecasters.ensemble();
      default -> throw new IllegalArgumentException("model '" + model + "' is not benchmarked");
    };
    // Past the cold start, so the steady-state path (scored residuals, fitted models) is what is measured.
    for (int t = 0; t < 3 * 288; t++) {
      step();
    }
  }

  private Forecast step() {
    time += 300_000;
    forecaster.observe(time, values[i]);
    i = (i + 1) & (SERIES - 1);
    return forecaster.forecast(1, 0.9);
  }

  @Benchmark
  public Forecast observeAndForecast() {
    return step();
  }
}
