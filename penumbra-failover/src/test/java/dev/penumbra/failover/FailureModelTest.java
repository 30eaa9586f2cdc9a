package dev.penumbra.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading, features, labels, calibration and the engine, on small seeded data (the real data: eval's tests). */
class FailureModelTest {

  static final String HEADER = "date,serial_number,model,capacity_bytes,failure,smart_5_raw,smart_9_raw,"
      + "smart_187_raw,smart_188_raw,smart_197_raw,smart_198_raw";

  static SmartRecord rec(String day, String serial, boolean failed, double s5, double s197, double hours) {
    return new SmartRecord(LocalDate.parse(day), serial, "m", failed, s5, Double.NaN, Double.NaN, s197, Double.NaN,
        hours);
  }

  @Test
  void readsDailyFilesByHeaderAndNamesFileLineAndColumnOfABadValue(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("2013-04-10.csv"), HEADER + "\n2013-04-10,A,m,1,0,3,8766,,,0,\n"
        + "2013-04-10,B,m,1,1,,100,,,,\n");
    Files.writeString(dir.resolve("notes.txt"), "ignored");
    List<SmartRecord> r = BackblazeData.readDir(dir);
    assertThat(r).hasSize(2);
    assertThat(r.get(0).reallocated()).isEqualTo(3);
    assertThat(r.get(0).backblazeWarning()).isTrue();
    assertThat(r.get(1).failed()).isTrue();
    assertThat(r.get(1).reallocated()).isNaN();
    Files.writeString(dir.resolve("2013-04-11.csv"), HEADER + "\n2013-04-11,A,m,1,0,-3,8766,,,0,\n");
    assertThatThrownBy(() -> BackblazeData.readDir(dir)).hasMessageContaining("2013-04-11.csv")
        .hasMessageContaining("line 2").hasMessageContaining("smart_5_raw").hasMessageContaining("'-3'");
    assertThatThrownBy(() -> BackblazeData.dailyFiles(dir.resolve("none"))).hasMessageContaining("not a directory");
  }

  @Test
  void featuresReadThePastOnlyAndGrowthOverThreeDays() {
    List<SmartRecord> h = List.of(rec("2013-04-01", "A", false, 0, 0, 8766), rec("2013-04-02", "A", false, 10, 0, 8790),
        rec("2013-04-05", "A", false, 30, 2, 8900));
    var f = FailureFeatures.of(h);
    // 04-01 is more than 3 days before 04-05: growth is measured from 04-02.
    assertThat(f.get("d_smart5")).isEqualTo(Math.log1p(20));
    assertThat(f.get("smart197")).isEqualTo(Math.log1p(2));
    assertThat(f.get("warning")).isEqualTo(1);
    assertThatThrownBy(() -> FailureFeatures.of(List.of(h.get(1), h.get(0))))
        .hasMessageContaining("not in date order");
  }

  @Test
  void labelsTheHorizonAndLeavesUnknownOutcomesOutOfTraining() {
    List<SmartRecord> period = List.of(rec("2013-04-01", "A", false, 1, 0, 1), rec("2013-04-02", "A", false, 1, 0, 1),
        rec("2013-04-03", "A", true, 1, 0, 1), rec("2013-04-01", "B", false, 0, 0, 1),
        rec("2013-04-02", "B", false, 0, 0, 1), rec("2013-04-03", "B", false, 0, 0, 1));
    FailureDataset d = FailureDataset.of(period, List.of(), 2);
    var a = d.rows().stream().filter(r -> r.record().serial().equals("A")).toList();
    assertThat(a).extracting(FailureDataset.Row::positive).containsExactly(false, true, true);
    var b = d.rows().stream().filter(r -> r.record().serial().equals("B")).toList();
    assertThat(b).extracting(FailureDataset.Row::known).containsExactly(true, true, false);
    assertThatThrownBy(() -> FailureDataset.of(period, List.of(), 0)).hasMessageContaining("was 0");
  }

  /** Drives whose failure chance grows with their reallocated-sector count; 30 days, seeded. */
  static List<SmartRecord> synthetic(long seed) {
    Random rng = new Random(seed);
    List<SmartRecord> out = new ArrayList<>();
    LocalDate start = LocalDate.parse("2013-01-01");
    for (int d = 0; d < 1500; d++) {
      double s5 = rng.nextDouble() < 0.8 ? 0 : Math.floor(Math.exp(rng.nextDouble() * 9));
      double daily = 0.0005 + 0.04 * Math.log1p(s5) / 9;
      for (int day = 0; day < 30; day++) {
        boolean fails = rng.nextDouble() < daily;
        out.add(rec(start.plusDays(day).toString(), "D" + d, fails, s5, 0, 10_000));
        if (fails) {
          break;
        }
      }
    }
    return out;
  }

  @Test
  void trainedModelIsCalibratedOnLaterDaysOfTheSameProcess() {
    List<SmartRecord> all = synthetic(7);
    List<SmartRecord> train = all.stream().filter(r -> r.date().getDayOfMonth() <= 20).toList();
    List<SmartRecord> test = all.stream().filter(r -> r.date().getDayOfMonth() > 20).toList();
    FailureModel m = FailureModel.train(FailureDataset.of(train, List.of(), 3), FailureModel.Options.defaults());
    FailureDataset t = FailureDataset.of(test, train, 3);
    double predicted = 0;
    double observed = 0;
    // Complete days only: on the last days only the failures are known, which would inflate the observed rate.
    for (FailureDataset.Row r : t.complete()) {
      predicted += m.probability(r.features());
      observed += r.positive() ? 1 : 0;
    }
    // Overall predicted failures within 25% of observed, and risk rises with the counter.
    assertThat(predicted).isBetween(observed * 0.75, observed * 1.25);
    FailurePredictionEngine fpe = new FailurePredictionEngine(m);
    double low = fpe.observe("n", rec("2013-02-01", "X", false, 0, 0, 10_000));
    double high = fpe.observe("m", rec("2013-02-01", "Y", false, 5000, 0, 10_000));
    assertThat(high).isGreaterThan(low * 3);
  }

  @Test
  void boostedTreesWithIsotonicCalibrationRankAndCalibrate() {
    List<SmartRecord> all = synthetic(7);
    List<SmartRecord> train = all.stream().filter(r -> r.date().getDayOfMonth() <= 20).toList();
    List<SmartRecord> test = all.stream().filter(r -> r.date().getDayOfMonth() > 20).toList();
    FailureModel m = FailureModel.train(FailureDataset.of(train, List.of(), 3), FailureModel.Options.defaults()
        .with(FailureModel.Learner.BOOSTED_TREES, FailureModel.Calibration.ISOTONIC));
    List<FailureDataset.Row> rows = FailureDataset.of(test, train, 3).complete();
    double[] p = m.probabilities(rows.stream().map(FailureDataset.Row::features).toList());
    double predicted = 0;
    double observed = 0;
    for (int i = 0; i < p.length; i++) {
      assertThat(p[i]).isEqualTo(m.probability(rows.get(i).features()));
      predicted += p[i];
      observed += rows.get(i).positive() ? 1 : 0;
    }
    assertThat(predicted).isBetween(observed * 0.6, observed * 1.4);
    FailurePredictionEngine fpe = new FailurePredictionEngine(m);
    double low = fpe.observe("n", rec("2013-02-01", "X", false, 0, 0, 10_000));
    double high = fpe.observe("m", rec("2013-02-01", "Y", false, 5000, 0, 10_000));
    assertThat(high).isGreaterThan(low * 3);
  }

  @Test
  void isotonicCalibrationPoolsViolatorsAndNeverDecreases() {
    // Scores 0.1..0.6; outcomes that dip at 0.3 and 0.5 are pooled with their neighbours.
    double[] s = {0.1, 0.2, 0.3, 0.3, 0.4, 0.5, 0.6, 0.6};
    boolean[] y = {false, true, false, false, true, false, true, true};
    Isotonic iso = Isotonic.fit(s, y);
    assertThat(iso.apply(0.1)).isEqualTo(0.0);
    assertThat(iso.apply(0.2)).isEqualTo(iso.apply(0.3)).isCloseTo(1 / 3.0, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(iso.apply(0.4)).isEqualTo(0.5);
    assertThat(iso.apply(0.6)).isEqualTo(1.0);
    assertThat(iso.apply(0.99)).isEqualTo(1.0);
    double prev = 0;
    for (double x = 0; x <= 1; x += 0.01) {
      assertThat(iso.apply(x)).isGreaterThanOrEqualTo(prev);
      prev = iso.apply(x);
    }
  }

  @Test
  void trainingWithoutPositivesOrWithBadOptionsFailsNamingTheProblem() {
    List<SmartRecord> quiet = List.of(rec("2013-04-01", "A", false, 0, 0, 1), rec("2013-04-02", "A", false, 0, 0, 1),
        rec("2013-04-03", "A", false, 0, 0, 1), rec("2013-04-04", "A", false, 0, 0, 1));
    assertThatThrownBy(() -> FailureModel.train(FailureDataset.of(quiet, List.of(), 1),
        FailureModel.Options.defaults())).hasMessageContaining("0 positive rows");
    assertThatThrownBy(() -> FailureModel.Options.defaults().withFeatures(List.of("smart999")))
        .hasMessageContaining("unknown feature 'smart999'");
    assertThatThrownBy(() -> new FailureModel.Options("x", FailureFeatures.ALL, 1.0, 1, 1, 1))
        .hasMessageContaining("calibrationShare").hasMessageContaining("1.0");
  }

  @Test
  void engineRejectsAnOlderSnapshotAndKeepsWhatItHad() {
    List<SmartRecord> all = synthetic(3);
    FailureModel m = FailureModel.train(FailureDataset.of(all, List.of(), 3), FailureModel.Options.defaults());
    FailurePredictionEngine fpe = new FailurePredictionEngine(m);
    double first = fpe.observe("n", rec("2013-02-02", "X", false, 10, 0, 10_000));
    assertThatThrownBy(() -> fpe.observe("n", rec("2013-02-01", "X", false, 10, 0, 10_000)))
        .hasMessageContaining("not in date order");
    assertThatThrownBy(() -> fpe.observe("n", rec("2013-02-03", "Z", false, 10, 0, 10_000)))
        .hasMessageContaining("mixes drives");
    assertThat(fpe.observe("n", rec("2013-02-03", "X", false, 10, 0, 10_000))).isEqualTo(first);
  }
}
