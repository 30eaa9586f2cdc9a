package dev.penumbra.eval.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.eval.stream.StreamBenchmark.Options;
import dev.penumbra.eval.stream.StreamBenchmark.RateSeries;
import dev.penumbra.eval.stream.StreamBenchmark.Result;
import dev.penumbra.eval.stream.StreamBenchmark.ScalerResult;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamBenchmarkTest {

  /** A daily cycle (24 steps of an hour) with a sharp morning rise. */
  static RateSeries daily() {
    double[] v = new double[24 * 8];
    for (int i = 0; i < v.length; i++) {
      int h = i % 24;
      v[i] = h < 7 ? 100 : (h < 9 ? 100 + (h - 6) * 300 : (h < 20 ? 900 : 300));
    }
    return new RateSeries("daily", 3_600_000, v);
  }

  @Test
  void everyScalerSeesTheSameRecordsAndLosesNone() throws Exception {
    Options o = new Options(List.of(daily()), 3600, 48, 24, 4, Double.NaN, 200, 2, 0.02, 7, 0);
    Result r = StreamBenchmark.run(o, null);
    assertThat(r.scalers()).extracting(ScalerResult::name)
        .containsExactly("penumbra", "reactive", "static-mean", "static-peak");
    long records = r.scalers().get(0).records();
    assertThat(records).isGreaterThan(10_000);
    for (ScalerResult s : r.scalers()) {
      assertThat(s.records()).isEqualTo(records);
      assertThat(s.lost()).isZero();
      assertThat(s.p99Millis()).isGreaterThanOrEqualTo(s.p50Millis());
    }
    ScalerResult peak = r.scaler("static-peak");
    ScalerResult mean = r.scaler("static-mean");
    // Static at the peak is the fastest and the most expensive; static at the mean the cheapest and slowest.
    assertThat(peak.workerSeconds()).isGreaterThan(mean.workerSeconds());
    assertThat(peak.p99Millis()).isLessThan(mean.p99Millis());
    assertThat(peak.scalingActions()).isZero();
    assertThat(r.scaler("penumbra").scalingActions()).isPositive();
    // The rate rule: the peak needs peakWorkers, the peak is at least 4x the mean.
    assertThat(r.partitions().get(0).peakRate()).isCloseTo(4 / 200e-6, org.assertj.core.data.Offset.offset(1e-6));
    // The plateau (11 of 24 h at the top) keeps it below 4x: b is capped at the mean (about 540 of 900 over the 49 replayed hours).
    double ratio = r.partitions().get(0).peakRate() / r.partitions().get(0).meanRate();
    assertThat(ratio).isCloseTo(2.1, org.assertj.core.data.Offset.offset(0.2));
    assertThat(r.partitions().get(0).offset()).isBetween(500.0, 600.0);
    double[] spiky = {10, 10, 10, 10, 10, 10, 10, 100};
    assertThat(StreamBenchmark.offsetForPeakToMean(spiky, 21.25, 100, 4)).isZero();
    double[] taxiLike = {50, 50, 50, 50, 50, 100};
    double b = StreamBenchmark.offsetForPeakToMean(taxiLike, 350 / 6.0, 100, 4);
    double sum = 0;
    for (double x : taxiLike) {
      sum += Math.max(0, x - b);
    }
    assertThat((100 - b) / (sum / taxiLike.length)).isCloseTo(4.0, org.assertj.core.data.Offset.offset(1e-6));
    assertThat(r.shadowSampled()).isPositive();
    assertThat(r.measuredCostMicros()).isGreaterThan(50);
  }

  @Test
  void overheadMeasurementRunsBothSides() throws Exception {
    StreamBenchmark.Overhead o = StreamBenchmark.measureOverhead(Work.calibrated(200), 0.01, 2);
    assertThat(o.baselineRecordsPerSecond()).isPositive();
    assertThat(o.shadowRecordsPerSecond()).isPositive();
    assertThat(o.sampled()).isEqualTo(2 * 12); // floor(1250 * 0.01) per run
    assertThat(o.shadowProcessed() + o.shadowDropped()).isEqualTo(o.sampled());
  }

  @Test
  void badOptionsAreRejected() {
    List<RateSeries> one = List.of(daily());
    assertThatThrownBy(() -> new Options(one, 3600, 60, 24, 6, Double.NaN, 200, 2, 1.5, 7, 0))
        .hasMessage("sampling rate must be in (0, 1], was 1.5");
    assertThatThrownBy(() -> new Options(one, 0, 60, 24, 6, Double.NaN, 200, 2, 0.01, 7, 0))
        .hasMessage("speedup must be > 0, was 0.0");
    assertThatThrownBy(() -> new Options(one, 3600, 60, 60, 6, Double.NaN, 200, 2, 0.01, 7, 0))
        .hasMessageContaining("warmup must be in [0, duration 60.0), was 60.0");
    assertThatThrownBy(() -> new RateSeries("x", 1000, new double[] {1, -2}))
        .hasMessageContaining("negative or not finite: -2.0");
    assertThatThrownBy(() -> Work.calibrated(0)).hasMessage("costMicros must be in (0, 1e6], was 0.0");
  }
}
