package dev.penumbra.failover;

import dev.penumbra.core.Checks;
import dev.penumbra.core.predict.Features;
import dev.penumbra.ml.NativeTraining;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.function.DoubleUnaryOperator;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.liblinear.LibLinearClassificationTrainer;
import org.tribuo.classification.liblinear.LinearClassificationType;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuo.regression.RegressionFactory;
import org.tribuo.regression.Regressor;
import org.tribuo.regression.xgboost.XGBoostRegressionTrainer;

/**
 * The failure prediction engine's model: L2-regularised logistic regression (Tribuo over liblinear) on standardised
 * {@link FailureFeatures}, or boosted regression trees (Tribuo over XGBoost, squared error on the 0/1 outcome),
 * calibrated by {@link Platt} scaling or {@link Isotonic} regression on a held-out later part of the training period.
 *
 * <p>Training is temporal: of the labelled rows with a known outcome, the earliest {@code 1 - calibrationShare} of
 * the days fit the regression and the later days calibrate it, as the model will be used on days after those it
 * saw. Positives are rare (tens among hundreds of thousands of drive-days), so the fit keeps every positive and a
 * seeded sample of the negatives; calibration, on untouched held-out rows, maps the resulting scores back to
 * probabilities.
 */
public final class FailureModel implements RiskModel {

  private static final String FAIL = "fail";
  private static final String OK = "ok";
  private static final LabelFactory LABELS = new LabelFactory();
  private static final RegressionFactory REGRESSORS = new RegressionFactory();

  /**
   * Training options.
   *
   * @param name the model's name
   * @param features feature names to read (a subset of {@link FailureFeatures#ALL})
   * @param calibrationShare the later share of the training days held out for calibration, in (0, 1)
   * @param negativeRate the share of negative rows the regression is fitted on, in (0, 1]
   * @param cost liblinear's C, the inverse of the L2 penalty, > 0
   * @param seed sampling and solver seed
   */
  public record Options(String name, List<String> features, double calibrationShare, double negativeRate, double cost,
      long seed, Learner learner, Calibration calibration) {

    public Options(String name, List<String> features, double calibrationShare, double negativeRate, double cost,
        long seed) {
      this(name, features, calibrationShare, negativeRate, cost, seed, Learner.LOGISTIC, Calibration.PLATT);
    }

    public Options {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("model name must not be blank, was '" + name + "'");
      }
      if (features == null || features.isEmpty()) {
        throw new IllegalArgumentException("model features must not be empty, was " + features);
      }
      for (String f : features) {
        if (!FailureFeatures.ALL.contains(f)) {
          throw new IllegalArgumentException("unknown feature '" + f + "'; known: " + FailureFeatures.ALL);
        }
      }
      features = List.copyOf(features);
      if (!(calibrationShare > 0 && calibrationShare < 1)) {
        throw new IllegalArgumentException("calibrationShare must be in (0, 1), was " + calibrationShare);
      }
      Checks.share("negativeRate", negativeRate);
      if (!(cost > 0 && Double.isFinite(cost))) {
        throw new IllegalArgumentException("cost must be > 0, was " + cost);
      }
      if (learner == null || calibration == null) {
        throw new IllegalArgumentException("learner and calibration must be given, were " + learner + " and "
            + calibration);
      }
    }

    /** Every feature, 30% of the days for calibration, every negative, C = 1, seed 42. */
    public static Options defaults() {
      return new Options("penumbra-logistic", FailureFeatures.ALL, 0.3, 1.0, 1.0, 42);
    }

    public Options withName(String n) {
      return new Options(n, features, calibrationShare, negativeRate, cost, seed, learner, calibration);
    }

    public Options withFeatures(List<String> f) {
      return new Options(name, f, calibrationShare, negativeRate, cost, seed, learner, calibration);
    }

    public Options withSeed(long s) {
      return new Options(name, features, calibrationShare, negativeRate, cost, s, learner, calibration);
    }

    public Options with(Learner l, Calibration c) {
      return new Options(name, features, calibrationShare, negativeRate, cost, seed, l, c);
    }
  }

  /** What separates failing from healthy drive-days. */
  public enum Learner {
    /** L2-regularised logistic regression: one weight per feature. */
    LOGISTIC,
    /** 100 boosted regression trees of depth 4 (XGBoost): interactions and thresholds of counters. */
    BOOSTED_TREES
  }

  /** How the learner's score becomes a probability, fitted on the held-out calibration days. */
  public enum Calibration {
    /** Two parameters (a sigmoid of the score's logit): stable on few positives, extrapolates at the top. */
    PLATT,
    /** A non-decreasing step function: no shape assumed, never promises more than a block of scores delivered. */
    ISOTONIC
  }

  private final Options options;
  private final int horizonDays;
  private final Model<Label> model;
  private final Model<Regressor> trees;
  private final double[] mean;
  private final double[] scale;
  private final DoubleUnaryOperator calibration;
  private final String[] names;

  private FailureModel(Options options, int horizonDays, Model<Label> model, Model<Regressor> trees, double[] mean,
      double[] scale, DoubleUnaryOperator calibration) {
    this.options = options;
    this.horizonDays = horizonDays;
    this.model = model;
    this.trees = trees;
    this.mean = mean;
    this.scale = scale;
    this.calibration = calibration;
    this.names = options.features().toArray(String[]::new);
  }

  /**
   * Trains on the known rows of {@code train}.
   *
   * @throws IllegalArgumentException when the fit or the calibration days hold no positive (too little data to
   *     learn or to calibrate from), naming the counts
   */
  public static FailureModel train(FailureDataset train, Options options) {
    // Complete days only: on the period's last days only failures are known, and their rows would bias both the fit
    // and, worse, the calibration slice (the period's latest days) towards failure.
    List<FailureDataset.Row> known = train.complete();
    TreeSet<LocalDate> days = new TreeSet<>();
    known.forEach(r -> days.add(r.record().date()));
    if (days.size() < 2) {
      throw new IllegalArgumentException("training needs labelled rows on at least 2 days, has " + days.size());
    }
    List<LocalDate> ordered = new ArrayList<>(days);
    int cutIndex = Math.max(1, Math.min(ordered.size() - 1,
        (int) Math.round(ordered.size() * (1 - options.calibrationShare()))));
    LocalDate cut = ordered.get(cutIndex);
    List<FailureDataset.Row> fit = new ArrayList<>();
    List<FailureDataset.Row> cal = new ArrayList<>();
    Random rng = new Random(options.seed());
    int fitPositives = 0;
    int calPositives = 0;
    for (FailureDataset.Row r : known) {
      if (r.record().date().isBefore(cut)) {
        if (r.positive()) {
          fit.add(r);
          fitPositives++;
        } else if (rng.nextDouble() < options.negativeRate()) {
          fit.add(r);
        }
      } else {
        cal.add(r);
        calPositives += r.positive() ? 1 : 0;
      }
    }
    if (fitPositives == 0 || calPositives == 0) {
      throw new IllegalArgumentException("training period " + train.first() + ".." + train.last() + " has "
          + fitPositives + " positive rows before " + cut + " (fit) and " + calPositives
          + " from it on (calibration); both need at least one");
    }
    int k = options.features().size();
    double[] mean = new double[k];
    double[] sq = new double[k];
    for (FailureDataset.Row r : fit) {
      for (int j = 0; j < k; j++) {
        double v = r.features().get(options.features().get(j));
        mean[j] += v;
        sq[j] += v * v;
      }
    }
    double[] scale = new double[k];
    for (int j = 0; j < k; j++) {
      mean[j] /= fit.size();
      double var = sq[j] / fit.size() - mean[j] * mean[j];
      scale[j] = var > 1e-12 ? Math.sqrt(var) : 1;
    }
    FailureModel unfitted = new FailureModel(options, train.horizonDays(), null, null, mean, scale, null);
    Model<Label> model = null;
    Model<Regressor> trees = null;
    if (options.learner() == Learner.LOGISTIC) {
      MutableDataset<Label> data = new MutableDataset<>(new SimpleDataSourceProvenance("backblaze smart", LABELS),
          LABELS);
      for (FailureDataset.Row r : fit) {
        data.add(new ArrayExample<>(new Label(r.positive() ? FAIL : OK), unfitted.names,
            unfitted.vector(r.features())));
      }
      LibLinearClassificationTrainer trainer = new LibLinearClassificationTrainer(
          new LinearClassificationType(LinearClassificationType.LinearType.L2R_LR), options.cost(), 1000, 0.001,
          options.seed());
      model = trainer.train(data);
    } else {
      MutableDataset<Regressor> data = new MutableDataset<>(
          new SimpleDataSourceProvenance("backblaze smart", REGRESSORS), REGRESSORS);
      for (FailureDataset.Row r : fit) {
        data.add(new ArrayExample<>(new Regressor(FAIL, r.positive() ? 1 : 0), unfitted.names,
            unfitted.vector(r.features())));
      }
      // One thread: deterministic given the seed. Trained on a thread of its own: see NativeTraining.
      trees = NativeTraining.train(new XGBoostRegressionTrainer(XGBoostRegressionTrainer.RegressionType.LINEAR, 100,
          0.1, 0.0, 4, 1.0, 1.0, 1.0, 1.0, 0.0, 1, true, options.seed()), data);
    }
    FailureModel raw = new FailureModel(options, train.horizonDays(), model, trees, mean, scale, s -> s);
    double[] scores = raw.rawScores(cal.stream().map(FailureDataset.Row::features).toList());
    boolean[] labels = new boolean[cal.size()];
    for (int i = 0; i < cal.size(); i++) {
      labels[i] = cal.get(i).positive();
    }
    DoubleUnaryOperator calibrated = options.calibration() == Calibration.PLATT ? Platt.fit(scores, labels)::apply
        : Isotonic.fit(scores, labels)::apply;
    return new FailureModel(options, train.horizonDays(), model, trees, mean, scale, calibrated);
  }

  @Override
  public String name() {
    return options.name();
  }

  @Override
  public int horizonDays() {
    return horizonDays;
  }

  public Options options() {
    return options;
  }

  @Override
  public double probability(Features features) {
    return calibration.applyAsDouble(rawScore(features));
  }

  /**
   * The probabilities of many feature sets at once (as {@link #probability} each): boosted trees score a batch in
   * one native call instead of one per row.
   */
  public double[] probabilities(List<Features> features) {
    double[] raw = rawScores(features);
    for (int i = 0; i < raw.length; i++) {
      raw[i] = calibration.applyAsDouble(raw[i]);
    }
    return raw;
  }

  double[] rawScores(List<Features> features) {
    double[] out = new double[features.size()];
    if (trees == null) {
      for (int i = 0; i < out.length; i++) {
        out[i] = rawScore(features.get(i));
      }
      return out;
    }
    int batch = 20_000;
    for (int from = 0; from < out.length; from += batch) {
      List<org.tribuo.Example<Regressor>> examples = new ArrayList<>();
      for (Features f : features.subList(from, Math.min(out.length, from + batch))) {
        examples.add(new ArrayExample<>(RegressionFactory.UNKNOWN_REGRESSOR, names, vector(f)));
      }
      List<Prediction<Regressor>> predictions;
      synchronized (trees) {
        predictions = trees.predict(examples);
      }
      for (int i = 0; i < predictions.size(); i++) {
        out[from + i] = Math.min(1, Math.max(0, predictions.get(i).getOutput().getValues()[0]));
      }
    }
    return out;
  }

  /** The learner's own score in [0, 1], before calibration. */
  double rawScore(Features features) {
    if (trees != null) {
      synchronized (trees) {
        // XGBoost's native booster is not safe to call from several threads at once.
        Regressor r = trees.predict(new ArrayExample<>(RegressionFactory.UNKNOWN_REGRESSOR, names, vector(features)))
            .getOutput();
        return Math.min(1, Math.max(0, r.getValues()[0]));
      }
    }
    Prediction<Label> p = model.predict(new ArrayExample<>(LabelFactory.UNKNOWN_LABEL, names, vector(features)));
    Label fail = p.getOutputScores().get(FAIL);
    return fail == null ? 0 : fail.getScore();
  }

  private double[] vector(Features features) {
    double[] v = new double[names.length];
    for (int j = 0; j < names.length; j++) {
      v[j] = (features.get(names[j]) - mean[j]) / scale[j];
    }
    return v;
  }
}
