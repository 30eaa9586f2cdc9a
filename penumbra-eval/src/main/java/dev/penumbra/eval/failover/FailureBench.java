package dev.penumbra.eval.failover;

import dev.penumbra.failover.BackblazeData;
import dev.penumbra.failover.FailureDataset;
import dev.penumbra.failover.FailureFeatures;
import dev.penumbra.failover.FailureModel;
import dev.penumbra.failover.SmartRecord;
import dev.penumbra.failover.Thresholds;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * {@code penumbra bench failure}: trains the failure model on the earlier days of Backblaze's SMART data and
 * scores it on the later days, beside three baselines — Backblaze's own rule (any of SMART 5/187/188/197/198 raw
 * above zero), a model of the drive's age only (same training and calibration, one feature) and random alarms at
 * Penumbra's alarm rate — at the provision and promote thresholds, with Brier score, ROC/PR areas and the
 * reliability table. Beside the fixed thresholds it scores the product's defaults, chosen by alarm rate on the
 * training days ({@link Thresholds#atAlarmRates(FailureDataset, dev.penumbra.failover.RiskModel)}), as serve, demo
 * and {@code bench failover} choose them.
 */
public final class FailureBench {

  public static final String PENUMBRA = "penumbra";
  public static final String BACKBLAZE = "backblaze-rule";
  public static final String AGE = "age-only";
  public static final String RANDOM = "random";

  /**
   * What to run.
   *
   * @param train folder of the training days' daily files
   * @param test folder of the test days' files (may be the same folder: then {@code trainShare} splits by date)
   * @param trainShare when both folders are the same: the share of the days (earliest first) to train on
   * @param horizonDays failure horizon
   * @param thresholds alarm thresholds (provision, promote)
   * @param seed model and random-baseline seed
   * @param designs whether to score the other designs ({@link #LOGISTIC_ISOTONIC}, {@link #TREES_PLATT},
   *     {@link #TREES_ISOTONIC}) beside the production model
   */
  public record Options(Path train, Path test, double trainShare, int horizonDays, List<Double> thresholds,
      long seed, boolean designs) {

    /** With the other designs. */
    public Options(Path train, Path test, double trainShare, int horizonDays, List<Double> thresholds, long seed) {
      this(train, test, trainShare, horizonDays, thresholds, seed, true);
    }

    /** The same run without the other designs (faster). */
    public Options withoutDesigns() {
      return new Options(train, test, trainShare, horizonDays, thresholds, seed, false);
    }

    public Options {
      if (train == null || test == null) {
        throw new IllegalArgumentException("train and test folders must be given");
      }
      if (!(trainShare > 0 && trainShare < 1)) {
        throw new IllegalArgumentException("trainShare must be in (0, 1), was " + trainShare);
      }
      if (horizonDays < 1) {
        throw new IllegalArgumentException("horizonDays must be >= 1, was " + horizonDays);
      }
      for (double t : thresholds) {
        if (!(t >= 0 && t <= 1)) {
          throw new IllegalArgumentException("threshold must be in [0, 1], was " + t);
        }
      }
      thresholds = List.copyOf(thresholds);
    }

    /** The shared data split by date: 60% of the days train, 40% test; horizon 3 days; thresholds 0.7 and 0.9. */
    public static Options defaults(Path data) {
      return new Options(data, data, 0.6, 3, List.of(0.7, 0.9), 42);
    }
  }

  /** Figures of one model at one threshold. */
  public record AtThreshold(double threshold, long alarms, long trueAlarms, double precision, int failures,
      int caught, double recall, double meanLeadDays, double medianLeadDays, double falseAlarmsPerDay,
      int falselyAlarmedDrives) {}

  /** One bin of a reliability diagram. */
  public record Bin(double low, double high, long count, double meanPredicted, double observed) {}

  /** A curve's point (ROC: x=FPR, y=TPR; PR: x=recall, y=precision). */
  public record Point(double x, double y) {}

  /**
   * The reliability check: of the drive-days scored in {@code [low, high)}, how many failed within the
   * horizon (a calibrated model's {@code observed} is near its {@code meanPredicted}).
   */
  public record Band(double low, double high, long count, long failing, double meanPredicted, double observed) {}

  /** One model's figures. */
  public record ModelResult(String model, double brier, double rocAuc, double prAuc, double maxProbability,
      List<AtThreshold> thresholds, List<Bin> reliability, List<Band> bands, List<Point> roc, List<Point> pr) {}

  /** The other designs scored beside the production model (same features, days and calibration slice). */
  public static final String LOGISTIC_ISOTONIC = "logistic-isotonic";
  public static final String TREES_PLATT = "trees-platt";
  public static final String TREES_ISOTONIC = "trees-isotonic";

  /**
   * The product's default thresholds (alarm rate, chosen on the training days: {@link Thresholds#atAlarmRates(
   * FailureDataset, dev.penumbra.failover.RiskModel)}) scored on the held-out days: the share of held-out drive-days at
   * or above each level (the rule aims at {@code provisionShare} and {@code promoteShare}), and precision, recall and
   * lead time there.
   */
  public record ShippedDefaults(Thresholds thresholds, double provisionShare, double promoteShare,
      double heldOutProvisionShare, double heldOutPromoteShare, AtThreshold atProvision, AtThreshold atPromote) {}

  /** The whole run. */
  public record Result(String trainPeriod, String testPeriod, int horizonDays, long trainRows, long trainPositives,
      int trainFailures, long testRows, long testPositives, int testFailures, long testDays, double baseRate,
      double climatologyBrier, ShippedDefaults shippedDefaults, List<ModelResult> models) {}

  private FailureBench() {}

  /** Reads, trains, scores. Progress goes to {@code progress}. */
  public static Result run(Options o, PrintStream progress) throws IOException {
    List<SmartRecord> trainRecords;
    List<SmartRecord> testRecords;
    if (o.train().toAbsolutePath().normalize().equals(o.test().toAbsolutePath().normalize())) {
      List<Path> files = BackblazeData.dailyFiles(o.train());
      int cut = (int) Math.round(files.size() * o.trainShare());
      if (cut < 2 || cut >= files.size()) {
        throw new IllegalArgumentException("trainShare " + o.trainShare() + " of " + files.size()
            + " days leaves no test day or fewer than 2 training days");
      }
      trainRecords = read(files.subList(0, cut), progress);
      testRecords = read(files.subList(cut, files.size()), progress);
    } else {
      trainRecords = read(BackblazeData.dailyFiles(o.train()), progress);
      testRecords = read(BackblazeData.dailyFiles(o.test()), progress);
    }
    return run(trainRecords, testRecords, o, progress);
  }

  static List<SmartRecord> read(List<Path> files, PrintStream progress) throws IOException {
    List<SmartRecord> out = new ArrayList<>();
    for (Path f : files) {
      progress.printf("reading %s%n", f.getFileName());
      out.addAll(BackblazeData.readFile(f));
    }
    return out;
  }

  /** Trains on {@code train}, scores on {@code test} (whose features may read the training days as history). */
  public static Result run(List<SmartRecord> train, List<SmartRecord> test, Options o, PrintStream progress) {
    FailureDataset trainSet = FailureDataset.of(train, List.of(), o.horizonDays());
    FailureDataset testSet = FailureDataset.of(test, train, o.horizonDays());
    if (!trainSet.last().isBefore(testSet.first())) {
      throw new IllegalArgumentException("the training days (" + trainSet.first() + ".." + trainSet.last()
          + ") must all come before the test days (" + testSet.first() + ".." + testSet.last() + ")");
    }
    progress.printf("training on %s..%s (%d drive-days)%n", trainSet.first(), trainSet.last(), train.size());
    FailureModel penumbra = FailureModel.train(trainSet, FailureModel.Options.defaults().withSeed(o.seed()));
    List<FailureModel> designs = new ArrayList<>();
    for (Object[] d : !o.designs() ? new Object[0][] : new Object[][] {
        {LOGISTIC_ISOTONIC, FailureModel.Learner.LOGISTIC, FailureModel.Calibration.ISOTONIC},
        {TREES_PLATT, FailureModel.Learner.BOOSTED_TREES, FailureModel.Calibration.PLATT},
        {TREES_ISOTONIC, FailureModel.Learner.BOOSTED_TREES, FailureModel.Calibration.ISOTONIC}}) {
      progress.printf("training design %s%n", d[0]);
      designs.add(FailureModel.train(trainSet, FailureModel.Options.defaults().withName((String) d[0])
          .withSeed(o.seed()).with((FailureModel.Learner) d[1], (FailureModel.Calibration) d[2])));
    }
    FailureModel age = FailureModel.train(trainSet,
        FailureModel.Options.defaults().withName(AGE).withFeatures(FailureFeatures.AGE_ONLY).withSeed(o.seed()));
    List<FailureDataset.Row> trainKnown = trainSet.complete();
    double baseRate = trainKnown.stream().filter(FailureDataset.Row::positive).count() / (double) trainKnown.size();
    long warn = 0;
    long warnPos = 0;
    for (FailureDataset.Row r : trainKnown) {
      if (r.record().backblazeWarning()) {
        warn++;
        warnPos += r.positive() ? 1 : 0;
      }
    }
    // The rule alarms on a warning whatever the threshold; for the Brier score it is given its training rates.
    double warnRate = warn == 0 ? baseRate : warnPos / (double) warn;
    double quietRate = (trainKnown.stream().filter(FailureDataset.Row::positive).count() - warnPos)
        / (double) Math.max(1, trainKnown.size() - warn);

    List<FailureDataset.Row> rows = testSet.rows();
    progress.printf("scoring %s..%s (%d drive-days)%n", testSet.first(), testSet.last(), rows.size());
    int n = rows.size();
    double[] pPen = new double[n];
    double[] pAge = new double[n];
    double[][] pDesign = new double[designs.size()][];
    List<dev.penumbra.core.predict.Features> testFeatures = rows.stream().map(FailureDataset.Row::features).toList();
    for (int k = 0; k < designs.size(); k++) {
      pDesign[k] = designs.get(k).probabilities(testFeatures);
    }
    double[] pRule = new double[n];
    boolean[] ruleAlarm = new boolean[n];
    boolean[] y = new boolean[n];
    for (int i = 0; i < n; i++) {
      FailureDataset.Row r = rows.get(i);
      pPen[i] = penumbra.probability(r.features());
      pAge[i] = age.probability(r.features());
      ruleAlarm[i] = r.record().backblazeWarning();
      pRule[i] = ruleAlarm[i] ? warnRate : quietRate;
      y[i] = r.positive();
    }
    // Beside the fixed thresholds, the product's defaults chosen on the training days (as serve, demo and bench
    // failover choose them).
    Thresholds tuned = Thresholds.atAlarmRates(trainSet, penumbra);
    List<Double> all = new ArrayList<>(o.thresholds());
    all.add(tuned.provision());
    all.add(tuned.promote());
    o = new Options(o.train(), o.test(), o.trainShare(), o.horizonDays(), all, o.seed(), o.designs());
    List<ModelResult> models = new ArrayList<>();
    models.add(score(PENUMBRA, rows, pPen, y, o, t -> alarms(pPen, t), testSet.days()));
    models.add(score(BACKBLAZE, rows, pRule, y, o, t -> ruleAlarm, testSet.days()));
    models.add(score(AGE, rows, pAge, y, o, t -> alarms(pAge, t), testSet.days()));
    for (int k = 0; k < designs.size(); k++) {
      double[] pk = pDesign[k];
      models.add(score(designs.get(k).name(), rows, pk, y, o, t -> alarms(pk, t), testSet.days()));
    }
    double[] pRand = new double[n];
    Arrays.fill(pRand, baseRate);
    Map<Double, boolean[]> randomAlarms = new HashMap<>();
    for (double t : o.thresholds()) {
      boolean[] pen = alarms(pPen, t);
      long count = 0;
      for (boolean b : pen) {
        count += b ? 1 : 0;
      }
      double rate = count / (double) n;
      Random rng = new Random(o.seed() + Double.hashCode(t));
      boolean[] a = new boolean[n];
      for (int i = 0; i < n; i++) {
        a[i] = rng.nextDouble() < rate;
      }
      randomAlarms.put(t, a);
    }
    models.add(score(RANDOM, rows, pRand, y, o, randomAlarms::get, testSet.days()));
    long testPositives = 0;
    for (boolean b : y) {
      testPositives += b ? 1 : 0;
    }
    double climatology = 0;
    for (int i = 0; i < n; i++) {
      double d = baseRate - (y[i] ? 1 : 0);
      climatology += d * d;
    }
    ModelResult pen = models.get(0);
    ShippedDefaults shipped = new ShippedDefaults(tuned, Thresholds.DEFAULT_PROVISION_SHARE,
        Thresholds.DEFAULT_PROMOTE_SHARE, share(alarms(pPen, tuned.provision())), share(alarms(pPen,
        tuned.promote())), at(pen, tuned.provision()), at(pen, tuned.promote()));
    return new Result(trainSet.first() + ".." + trainSet.last(), testSet.first() + ".." + testSet.last(),
        o.horizonDays(), trainKnown.size(), trainKnown.stream().filter(FailureDataset.Row::positive).count(),
        failures(trainSet.rows()), n, testPositives, failures(rows), testSet.days(), baseRate, climatology / n,
        shipped, models);
  }

  private static double share(boolean[] alarm) {
    long c = 0;
    for (boolean b : alarm) {
      c += b ? 1 : 0;
    }
    return alarm.length == 0 ? Double.NaN : c / (double) alarm.length;
  }

  private static AtThreshold at(ModelResult m, double threshold) {
    return m.thresholds().stream().filter(a -> a.threshold() == threshold).findFirst().orElseThrow();
  }

  private static int failures(List<FailureDataset.Row> rows) {
    Set<String> failed = new HashSet<>();
    for (FailureDataset.Row r : rows) {
      if (r.record().failed()) {
        failed.add(r.record().serial());
      }
    }
    return failed.size();
  }

  private static boolean[] alarms(double[] p, double t) {
    boolean[] a = new boolean[p.length];
    for (int i = 0; i < p.length; i++) {
      a[i] = p[i] >= t;
    }
    return a;
  }

  private static ModelResult score(String name, List<FailureDataset.Row> rows, double[] p, boolean[] y, Options o,
      java.util.function.DoubleFunction<boolean[]> alarmsAt, long days) {
    List<AtThreshold> at = new ArrayList<>();
    for (double t : o.thresholds()) {
      at.add(atThreshold(t, rows, alarmsAt.apply(t), y, days));
    }
    double brier = 0;
    double max = 0;
    for (int i = 0; i < p.length; i++) {
      double d = p[i] - (y[i] ? 1 : 0);
      brier += d * d;
      max = Math.max(max, p[i]);
    }
    Curves c = Curves.of(p, y);
    return new ModelResult(name, brier / p.length, c.rocAuc, c.prAuc, max, at, reliability(p, y),
        List.of(band(p, y, 0.6, 0.8), band(p, y, 0.85, 1.0000001)), c.roc, c.pr);
  }

  static Band band(double[] p, boolean[] y, double low, double high) {
    long n = 0;
    long failing = 0;
    double sum = 0;
    for (int i = 0; i < p.length; i++) {
      if (p[i] >= low && p[i] < high) {
        n++;
        sum += p[i];
        failing += y[i] ? 1 : 0;
      }
    }
    return new Band(low, Math.min(1, high), n, failing, n == 0 ? Double.NaN : sum / n,
        n == 0 ? Double.NaN : failing / (double) n);
  }

  static AtThreshold atThreshold(double t, List<FailureDataset.Row> rows, boolean[] alarm, boolean[] y, long days) {
    long alarms = 0;
    long trueAlarms = 0;
    Map<String, LocalDate> firstAlarm = new HashMap<>();
    Map<String, LocalDate> failedOn = new LinkedHashMap<>();
    Set<String> falselyAlarmed = new HashSet<>();
    for (int i = 0; i < rows.size(); i++) {
      FailureDataset.Row r = rows.get(i);
      String serial = r.record().serial();
      if (r.record().failed()) {
        failedOn.put(serial, r.record().date());
      }
      if (alarm[i]) {
        alarms++;
        if (y[i]) {
          trueAlarms++;
        } else if (r.failureDate() == null) {
          falselyAlarmed.add(serial);
        }
        firstAlarm.merge(serial, r.record().date(), (a, b) -> a.isBefore(b) ? a : b);
      }
    }
    List<Double> leads = new ArrayList<>();
    for (Map.Entry<String, LocalDate> f : failedOn.entrySet()) {
      LocalDate first = firstAlarm.get(f.getKey());
      if (first != null && !first.isAfter(f.getValue())) {
        leads.add((double) java.time.temporal.ChronoUnit.DAYS.between(first, f.getValue()));
      }
    }
    leads.sort(Comparator.naturalOrder());
    double mean = leads.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    double median = leads.isEmpty() ? Double.NaN : leads.size() % 2 == 1 ? leads.get(leads.size() / 2)
        : (leads.get(leads.size() / 2 - 1) + leads.get(leads.size() / 2)) / 2;
    int failures = failedOn.size();
    return new AtThreshold(t, alarms, trueAlarms, alarms == 0 ? Double.NaN : trueAlarms / (double) alarms, failures,
        leads.size(), failures == 0 ? Double.NaN : leads.size() / (double) failures, mean, median,
        (alarms - trueAlarms) / (double) days, falselyAlarmed.size());
  }

  static List<Bin> reliability(double[] p, boolean[] y) {
    int bins = 10;
    long[] count = new long[bins];
    double[] sumP = new double[bins];
    long[] pos = new long[bins];
    for (int i = 0; i < p.length; i++) {
      int b = Math.min(bins - 1, (int) (p[i] * bins));
      count[b]++;
      sumP[b] += p[i];
      pos[b] += y[i] ? 1 : 0;
    }
    List<Bin> out = new ArrayList<>();
    for (int b = 0; b < bins; b++) {
      out.add(new Bin(b / (double) bins, (b + 1) / (double) bins, count[b],
          count[b] == 0 ? Double.NaN : sumP[b] / count[b], count[b] == 0 ? Double.NaN : pos[b] / (double) count[b]));
    }
    return out;
  }

  /** ROC and precision-recall curves and their areas, from scores sorted high to low (ties as one step). */
  record Curves(double rocAuc, double prAuc, List<Point> roc, List<Point> pr) {

    static final int MAX_POINTS = 300;

    static Curves of(double[] p, boolean[] y) {
      Integer[] order = new Integer[p.length];
      for (int i = 0; i < p.length; i++) {
        order[i] = i;
      }
      Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
      long pos = 0;
      for (boolean b : y) {
        pos += b ? 1 : 0;
      }
      long neg = p.length - pos;
      List<Point> roc = new ArrayList<>();
      List<Point> pr = new ArrayList<>();
      roc.add(new Point(0, 0));
      long tp = 0;
      long fp = 0;
      double auc = 0;
      double ap = 0;
      double prevFpr = 0;
      double prevTpr = 0;
      double prevRecall = 0;
      for (int k = 0; k < order.length; ) {
        double s = p[order[k]];
        while (k < order.length && p[order[k]] == s) {
          if (y[order[k]]) {
            tp++;
          } else {
            fp++;
          }
          k++;
        }
        double tpr = pos == 0 ? 0 : tp / (double) pos;
        double fpr = neg == 0 ? 0 : fp / (double) neg;
        double precision = tp / (double) (tp + fp);
        auc += (fpr - prevFpr) * (tpr + prevTpr) / 2;
        ap += (tpr - prevRecall) * precision;
        prevFpr = fpr;
        prevTpr = tpr;
        prevRecall = tpr;
        roc.add(new Point(fpr, tpr));
        pr.add(new Point(tpr, precision));
      }
      return new Curves(auc, ap, thin(roc), thin(pr));
    }

    private static List<Point> thin(List<Point> pts) {
      if (pts.size() <= MAX_POINTS) {
        return pts;
      }
      List<Point> out = new ArrayList<>();
      double step = (pts.size() - 1) / (double) (MAX_POINTS - 1);
      for (int i = 0; i < MAX_POINTS; i++) {
        out.add(pts.get((int) Math.round(i * step)));
      }
      return out;
    }
  }
}
