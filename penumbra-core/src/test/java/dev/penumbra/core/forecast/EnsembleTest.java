package dev.penumbra.core.forecast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.penumbra.core.SharedData;
import dev.penumbra.core.feedback.ErrorStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class EnsembleTest {

  @Test
  void weightShiftsToTheBestMemberAfterARegimeChange() {
    // Flat, then a cycle of period 12: every member is exact on the flat part; after the change, last value
    // and EWMA stay off while Holt-Winters (gamma 1: it relearns its offsets in one season) becomes nearly
    // exact from the second season on.
    String hw = "holt-winters(0.1,0.05,1.0,12)";
    Ensemble e = Forecasters.ensemble(
        Forecasters.lastValue(), Forecasters.ewma(0.3), Forecasters.holtWinters(0.1, 0.05, 1, 12));
    int change = 200;
    int t = 0;
    for (; t < change; t++) {
      e.observe(t, 50);
    }
    int shiftedAfter = -1;
    for (; t < change + 200; t++) {
      e.observe(t, 50 + 20 * Math.sin(2 * Math.PI * t / 12));
      double w = e.weights().get(hw);
      if (shiftedAfter < 0 && w > 0.8) {
        shiftedAfter = t - change;
      }
    }
    assertThat(shiftedAfter).as("steps until Holt-Winters weighs > 0.8").isBetween(12, 48);
    assertThat(e.weights().get(hw)).isGreaterThan(0.99);
    assertThat(e.weights().values().stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(1, within(1e-9));
    assertThat(e.forecast(1).point()).isCloseTo(50 + 20 * Math.sin(2 * Math.PI * t / 12), within(0.5));
  }

  @Test
  void weightFollowsTheBetterMemberBackAndForth() {
    // A member that is right only in the second regime must lose its weight again when the first returns.
    Ensemble e = Forecasters.ensemble(Forecasters.lastValue(), Forecasters.holt(0.8, 0.8));
    int t = 0;
    for (; t < 200; t++) {
      e.observe(t, t % 2 == 0 ? 10 : 12); // alternating: last value is off by 2, Holt worse
    }
    assertThat(e.weights().get("last-value")).isGreaterThan(0.5);
    for (int i = 0; i < 100; i++, t++) {
      e.observe(t, 12 + 3 * i); // a ramp: Holt exact, last value off by 3
    }
    assertThat(e.weights().get("holt(0.8,0.8)")).isGreaterThan(0.9);
  }

  @Test
  void exposesMemberStatistics() {
    Ensemble e = Forecasters.ensemble(Forecasters.lastValue(), Forecasters.lastValue(), Forecasters.ewma(0.5));
    assertThat(e.members()).containsExactly("last-value", "last-value#2", "ewma(0.5)");
    for (int t = 0; t < 300; t++) {
      e.observe(t, 100 + (t % 10));
    }
    List<ErrorStats> stats = e.memberStats();
    assertThat(stats).extracting(ErrorStats::model).containsExactlyElementsOf(e.members());
    assertThat(stats).allSatisfy(s -> {
      assertThat(s.total()).isEqualTo(299);
      assertThat(s.mape()).isBetween(0.0, 0.2);
    });
    // The last value under-predicts on 9 of every 10 rising steps.
    assertThat(stats.get(0).underPredictionRate()).isCloseTo(0.9, within(0.02));
    assertThat(e.stats().total()).isEqualTo(299);
  }

  @Test
  void rejectsBadMembers() {
    assertThatThrownBy(() -> Forecasters.ensemble(List.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("members");
    ScoredForecaster used = Forecasters.ewma(0.5);
    used.observe(0, 1);
    assertThatThrownBy(() -> Forecasters.ensemble(used))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("members[0]").hasMessageContaining("1");
  }

  @Test
  void beatsLastValueOnMostRealCloudwatchSeries() throws IOException {
    Path dir = SharedData.path("nab/data/realAWSCloudwatch");
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.toString().endsWith(".csv")).sorted().toList();
    }
    assertThat(files).hasSizeGreaterThanOrEqualTo(10);
    int better = 0;
    List<String> report = new ArrayList<>();
    for (Path file : files) {
      double[] x = read(file);
      ScoredForecaster ensemble = Forecasters.ensemble();
      ScoredForecaster last = Forecasters.lastValue();
      double ensembleError = 0;
      double lastError = 0;
      for (int t = 0; t < x.length; t++) {
        if (t > 0) {
          ensembleError += Math.abs(x[t] - ensemble.forecast(1).point());
          lastError += Math.abs(x[t] - last.forecast(1).point());
        }
        ensemble.observe(t * 300_000L, x[t]);
        last.observe(t * 300_000L, x[t]);
      }
      if (ensembleError < lastError) {
        better++;
      }
      report.add(String.format("%s %.4f", file.getFileName(), ensembleError / lastError));
    }
    System.out.println("ensemble / last-value 1-step MAE: " + report);
    assertThat(better).as("series where the ensemble beats last value: " + report).isGreaterThanOrEqualTo(
        (int) Math.ceil(0.75 * files.size()));
  }

  static double[] read(Path csv) throws IOException {
    List<String> lines = Files.readAllLines(csv);
    double[] x = new double[lines.size() - 1];
    for (int i = 1; i < lines.size(); i++) {
      String line = lines.get(i);
      x[i - 1] = Double.parseDouble(line.substring(line.lastIndexOf(',') + 1).trim());
    }
    return x;
  }

  @Test
  void mapOfWeightsIsReadOnly() {
    Map<String, Double> w = Forecasters.ensemble().weights();
    assertThat(w).hasSize(6);
    assertThatThrownBy(() -> w.put("x", 1.0)).isInstanceOf(UnsupportedOperationException.class);
  }
}
