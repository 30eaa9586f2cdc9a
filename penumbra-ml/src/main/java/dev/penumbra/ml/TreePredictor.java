package dev.penumbra.ml;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.feedback.ErrorStats;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.predict.Features;
import dev.penumbra.core.predict.PredictionScorer;
import dev.penumbra.core.predict.Predictor;
import dev.penumbra.core.predict.RunningQuantilePredictor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Predictor} backed by regression trees: gradient-boosted trees (XGBoost through Tribuo) or, where
 * XGBoost's native library cannot load or when asked, a single CART tree in pure Java.
 *
 * <p><b>Model.</b> One regression per resource dimension that was non-zero in some learned actual, fitted to
 * {@code log1p(actual)} (resource amounts are heavy-tailed). The point is {@code expm1(prediction)}.
 *
 * <p><b>Quantiles.</b> Split-conformal: each training holds out a seeded random {@code calibrationShare} of the
 * history; the quantiles of the held-out log-space residuals at 0.5, 0.9 and 0.99 are added to the prediction,
 * so {@code demand.at(0.9)} = {@code expm1(prediction + q90(residuals))}, rounded up. Demands are
 * low-confidence while fewer than 20 residuals calibrate them.
 *
 * <p><b>Learning.</b> {@link #learn} scores the actual (see {@link Predictor}) and appends it to a bounded
 * history (oldest forgotten first). Training runs on the executor, never under the lock {@link #predict}
 * takes: first once the history holds {@code minSamples}; again once the samples learned since the last
 * training reach {@code (retrainGrowth - 1)} times the size of that training's history (x1.5: 50 -> 75 ->
 * 113 ...), or {@code retrainEvery}, whichever is fewer. One training runs at a time; a trigger during it
 * is re-checked when it finishes. The snapshot is taken in {@code learn}, so the models depend only on the
 * sequence of learned samples and the seed. Until the first model exists, predictions come from a running
 * quantile of the actuals ({@link RunningQuantilePredictor}) and are low-confidence.
 *
 * <p><b>Features.</b> The first learned sample fixes the feature names. Any later {@code predict} or
 * {@code learn} whose names differ is rejected with an {@link IllegalArgumentException} naming the missing and
 * the unexpected features (a silently missing feature would make the trees answer for a different workload).
 * Before the first {@code learn}, any names are accepted.
 *
 * <p>About 650 lines: learning, background retraining, the CART fallback, scoring and saving share the sample window and
 * its lock.
 */
public final class TreePredictor implements Predictor, AutoCloseable {

  /** Which tree learner fits the model. */
  public enum Backend {
    /** Gradient-boosted trees (XGBoost via Tribuo, native). */
    XGBOOST,
    /** One CART regression tree (Tribuo, pure Java). */
    CART,
    /** XGBoost when its native library loads here, else CART. */
    AUTO
  }

  /** The quantile levels every demand carries. */
  public static final double[] LEVELS = {0.5, 0.9, 0.99};

  private static final Logger LOG = LoggerFactory.getLogger(TreePredictor.class);

  private final String name;
  private final Backend backend;
  private final ModelTrainer.Config config;
  private final int minSamples;
  private final double retrainGrowth;
  private final int retrainEvery;
  private final int historyCapacity;
  private final Executor executor;
  private final ExecutorService ownedExecutor;
  private final Runnable beforeFit;
  private final PredictionScorer scorer;
  private final RunningQuantilePredictor fallback;

  private final Object lock = new Object();
  // Guarded by lock.
  private final ArrayDeque<Sample> history = new ArrayDeque<>();
  private String[] schema;
  private int lastTrainSize;
  private int sinceTrain;
  private boolean trainingInFlight;
  private long nextVersion = 1;

  private volatile TrainedModel model;

  private TreePredictor(Builder b, Backend resolved) {
    this.name = b.name;
    this.backend = resolved;
    this.config = new ModelTrainer.Config(resolved, b.trees, b.maxDepth, b.learningRate, b.seed, b.calibrationShare,
        LEVELS.clone());
    this.minSamples = b.minSamples;
    this.retrainGrowth = b.retrainGrowth;
    this.retrainEvery = b.retrainEvery;
    this.historyCapacity = b.historyCapacity;
    if (b.executor != null) {
      this.executor = b.executor;
      this.ownedExecutor = null;
    } else {
      this.ownedExecutor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "penumbra-train-" + b.name);
        t.setDaemon(true);
        t.setPriority(Thread.NORM_PRIORITY - 1);
        return t;
      });
      this.executor = ownedExecutor;
    }
    this.beforeFit = b.beforeFit;
    ErrorTracker tracker = b.errorTracker != null ? b.errorTracker : new ErrorTracker();
    this.scorer = new PredictionScorer(name, tracker);
    this.fallback = new RunningQuantilePredictor(name + "/fallback", 1000, 1, new ErrorTracker(1));
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return name;
  }

  /** The learner actually used ({@link Backend#AUTO} resolved). */
  public Backend backend() {
    return backend;
  }

  /** False until the first model is trained (predictions come from the fallback until then). */
  @Override
  public boolean fitted() {
    return model != null;
  }

  @Override
  public Demand predict(Features features) {
    checkFeatures(features, false);
    Demand d = current(features);
    scorer.remember(features, d);
    return d;
  }

  private Demand current(Features features) {
    TrainedModel m = model;
    if (m == null) {
      Demand f = fallback.predict(features);
      return new Demand(f.point(), f.quantiles(), f.model(), true);
    }
    return m.predict(features, name + "/" + m.label());
  }

  @Override
  public void learn(Features features, Resources actual) {
    if (actual == null) {
      throw new IllegalArgumentException("actual is missing");
    }
    checkFeatures(features, true);
    scorer.score(features, actual, () -> current(features));
    fallback.learn(features, actual);
    Runnable training;
    synchronized (lock) {
      history.addLast(new Sample(features, actual));
      if (history.size() > historyCapacity) {
        history.removeFirst();
      }
      sinceTrain++;
      training = trainingIfDue();
    }
    if (training != null) {
      submit(training);
    }
  }

  /** Validates features; when {@code fix}, the first call fixes the schema. */
  private void checkFeatures(Features features, boolean fix) {
    if (features == null) {
      throw new IllegalArgumentException("features are missing");
    }
    String[] names;
    synchronized (lock) {
      if (schema == null) {
        if (fix) {
          schema = new TreeSet<>(features.names()).toArray(String[]::new);
        }
        return;
      }
      names = schema;
    }
    Set<String> expected = new TreeSet<>(List.of(names));
    if (!expected.equals(features.names())) {
      TreeSet<String> missing = new TreeSet<>(expected);
      missing.removeAll(features.names());
      TreeSet<String> unexpected = new TreeSet<>(features.names());
      unexpected.removeAll(expected);
      throw new IllegalArgumentException("features of " + name + " do not match the trained ones " + expected
          + ": missing " + missing + ", unexpected " + unexpected);
    }
  }

  /** Under lock: the training to start now, if one is due and none is running. */
  private Runnable trainingIfDue() {
    if (trainingInFlight || history.size() < minSamples) {
      return null;
    }
    boolean due = lastTrainSize == 0
        || sinceTrain >= Math.min(retrainEvery, Math.max(1, (long) Math.ceil(lastTrainSize * (retrainGrowth - 1))));
    if (!due) {
      return null;
    }
    List<Sample> snapshot = new ArrayList<>(history);
    String[] names = schema;
    long version = nextVersion++;
    lastTrainSize = snapshot.size();
    sinceTrain = 0;
    trainingInFlight = true;
    return () -> {
      try {
        train(snapshot, names, version);
      } finally {
        Runnable again;
        synchronized (lock) {
          trainingInFlight = false;
          again = trainingIfDue();
        }
        if (again != null) {
          submit(again);
        }
      }
    };
  }

  private void submit(Runnable training) {
    try {
      executor.execute(training);
    } catch (RejectedExecutionException e) {
      synchronized (lock) {
        trainingInFlight = false;
      }
      LOG.debug("{}: retraining skipped, executor is shut down", name);
    }
  }

  private void train(List<Sample> snapshot, String[] names, long version) {
    if (beforeFit != null) {
      beforeFit.run();
    }
    try {
      publish(ModelTrainer.fit(config, snapshot, names, version));
    } catch (RuntimeException e) {
      // A failed training keeps the previous model; the next trigger tries again.
      LOG.warn("{}: training on {} samples failed, keeping the previous model", name, snapshot.size(), e);
    }
  }

  private void publish(TrainedModel fitted) {
    if (fitted == null) {
      return;
    }
    synchronized (lock) {
      TrainedModel old = model;
      if (old == null || old.version() < fitted.version()) {
        model = fitted;
      }
    }
  }

  /**
   * Trains on the current history on the calling thread and publishes the model (for tests, tools and
   * callers that want a model now). Does not wait for, or cancel, a background training.
   *
   * @throws IllegalStateException when the history holds fewer than {@code minSamples} samples
   */
  public void retrainNow() {
    List<Sample> snapshot;
    String[] names;
    long version;
    synchronized (lock) {
      if (history.size() < minSamples) {
        throw new IllegalStateException(
            name + ": retraining needs " + minSamples + " samples, history holds " + history.size());
      }
      snapshot = new ArrayList<>(history);
      names = schema;
      version = nextVersion++;
      lastTrainSize = snapshot.size();
      sinceTrain = 0;
    }
    publish(ModelTrainer.fit(config, snapshot, names, version));
  }

  /** How many models were published so far (0 while predictions come from the fallback). */
  public long modelVersion() {
    TrainedModel m = model;
    return m == null ? 0 : m.version();
  }

  /** How many samples the current model was fitted on (excluding the calibration share); 0 without one. */
  public int trainedOn() {
    TrainedModel m = model;
    return m == null ? 0 : m.trainedOn();
  }

  /** How many samples the history holds. */
  public int historySize() {
    synchronized (lock) {
      return history.size();
    }
  }

  /** True while a background training is queued or running. */
  public boolean isTraining() {
    synchronized (lock) {
      return trainingInFlight;
    }
  }

  /**
   * The fitted state to keep across a restart, or empty before the first model. Serializes the model (Tribuo's
   * protobuf): call it when the model changed, not on every prediction.
   */
  public java.util.Optional<SavedModel> save() {
    TrainedModel m;
    List<Sample> samples;
    String[] names;
    int since;
    synchronized (lock) {
      m = model;
      samples = new ArrayList<>(history);
      names = schema;
      since = sinceTrain;
    }
    if (m == null || names == null) {
      return java.util.Optional.empty();
    }
    double[][] features = new double[samples.size()][];
    long[][] actuals = new long[samples.size()][];
    for (int i = 0; i < samples.size(); i++) {
      Sample s = samples.get(i);
      features[i] = new double[names.length];
      for (int f = 0; f < names.length; f++) {
        features[i][f] = s.features().get(names[f]);
      }
      actuals[i] = new long[Dimension.values().length];
      for (Dimension d : Dimension.values()) {
        actuals[i][d.ordinal()] = s.actual().get(d);
      }
    }
    return java.util.Optional.of(new SavedModel(SavedModel.FORMAT_VERSION, name, backend.name(), List.of(names),
        m.dimensions().stream().map(Dimension::label).toList(), m.levels(), m.offsets(), m.residualQuantiles(),
        m.label(), m.trainedOn(), m.calibrationSize(), m.version(), m.model().serialize().toByteArray(), features,
        actuals, since));
  }

  /**
   * Puts back what {@link #save()} gave in an earlier process: the model answers at once, its samples are the window
   * the next training uses. Refused, and nothing changed, when the saved state does not fit this predictor: another
   * format version or backend, a feature schema other than {@code expectedFeatures} (the names the caller computes
   * now; a model trained on other features would answer for a different workload), a model class Tribuo's protobuf
   * names that is not one of the tree models, or a predictor that has learned already.
   *
   * @throws IllegalArgumentException naming what does not fit; the caller then re-feeds the samples instead
   */
  public void restore(SavedModel saved, java.util.Collection<String> expectedFeatures) {
    if (saved == null) {
      throw new IllegalArgumentException("saved model is missing");
    }
    if (saved.formatVersion() != SavedModel.FORMAT_VERSION) {
      throw new IllegalArgumentException(name + ": saved model has format version " + saved.formatVersion()
          + ", this version reads " + SavedModel.FORMAT_VERSION);
    }
    if (!backend.name().equals(saved.backend())) {
      throw new IllegalArgumentException(name + ": saved model was fitted by " + saved.backend() + ", this predictor uses "
          + backend);
    }
    TreeSet<String> expected = new TreeSet<>(expectedFeatures);
    TreeSet<String> had = new TreeSet<>(saved.features() == null ? List.of() : saved.features());
    if (!expected.equals(had)) {
      TreeSet<String> missing = new TreeSet<>(expected);
      missing.removeAll(had);
      TreeSet<String> unexpected = new TreeSet<>(had);
      unexpected.removeAll(expected);
      throw new IllegalArgumentException(name + ": saved model's feature schema does not match the features computed "
          + "now: missing " + missing + ", no longer computed " + unexpected);
    }
    String[] names = saved.features().toArray(String[]::new);
    List<Dimension> dims = new ArrayList<>();
    for (String label : saved.dimensions()) {
      dims.add(java.util.Arrays.stream(Dimension.values()).filter(d -> d.label().equals(label)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException(name + ": saved model predicts unknown dimension '" + label
              + "'")));
    }
    int n = saved.sampleFeatures() == null ? -1 : saved.sampleFeatures().length;
    if (dims.isEmpty() || saved.levels() == null || saved.offsets() == null || saved.offsets().length != dims.size()
        || saved.residualQuantiles() == null || saved.residualQuantiles().length != dims.size()
        || saved.sampleActuals() == null || saved.sampleActuals().length != n || saved.tribuo() == null
        || saved.version() < 1 || saved.sinceTrain() < 0) {
      throw new IllegalArgumentException(name + ": saved model is incomplete (dimensions, calibration, samples or model"
          + " missing or of mismatched sizes)");
    }
    for (double[] q : saved.residualQuantiles()) {
      if (q == null || q.length != saved.levels().length) {
        throw new IllegalArgumentException(name + ": saved model's residual quantiles do not match its levels");
      }
    }
    ArrayDeque<Sample> samples = new ArrayDeque<>();
    for (int i = 0; i < n; i++) {
      double[] f = saved.sampleFeatures()[i];
      long[] a = saved.sampleActuals()[i];
      if (f == null || f.length != names.length || a == null || a.length != Dimension.values().length) {
        throw new IllegalArgumentException(name + ": saved sample " + i + " does not match the schema");
      }
      Features.Builder fb = Features.builder();
      for (int k = 0; k < names.length; k++) {
        fb.put(names[k], f[k]);
      }
      Resources actual = Resources.ZERO;
      for (Dimension d : Dimension.values()) {
        actual = actual.with(d, a[d.ordinal()]);
      }
      samples.addLast(new Sample(fb.build(), actual));
    }
    TrainedModel m = new TrainedModel(ModelFiles.read(saved.tribuo(), name), names, List.copyOf(dims),
        saved.levels().clone(), saved.offsets().clone(), saved.residualQuantiles(), saved.label(), saved.trainedOn(),
        saved.calibrationSize(), saved.version());
    synchronized (lock) {
      if (!history.isEmpty() || model != null) {
        throw new IllegalArgumentException(name + ": a saved model is put back only into a predictor that has not "
            + "learned yet");
      }
      schema = names;
      while (samples.size() > historyCapacity) {
        samples.removeFirst();
      }
      // Not fed to the fallback: it answers only before a first model, and this predictor has one from now on.
      history.addAll(samples);
      lastTrainSize = Math.max(1, saved.trainedOn() + saved.calibrationSize());
      sinceTrain = saved.sinceTrain();
      nextVersion = saved.version() + 1;
      model = m;
    }
  }

  @Override
  public ErrorStats errors(Dimension dimension) {
    return scorer.stats(dimension);
  }

  /** Stops the predictor's own training thread (not an executor given to the builder). */
  @Override
  public void close() {
    if (ownedExecutor != null) {
      ownedExecutor.shutdownNow();
    }
  }

  /** Options of a {@link TreePredictor}; each setter validates its value and names it when rejecting it. */
  public static final class Builder {
    private String name = "trees";
    private Backend backend = Backend.AUTO;
    private int minSamples = 50;
    private double retrainGrowth = 1.5;
    private int retrainEvery = 1000;
    private int historyCapacity = 5000;
    private double calibrationShare = 0.2;
    private int trees = 50;
    private int maxDepth = 6;
    private double learningRate = 0.1;
    private long seed = 42;
    private Executor executor;
    private ErrorTracker errorTracker;
    private Runnable beforeFit;

    private Builder() {}

    /** The model's name (default "trees"). */
    public Builder name(String name) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("name must not be blank, was '" + name + "'");
      }
      this.name = name;
      return this;
    }

    /** The tree learner (default AUTO). */
    public Builder backend(Backend backend) {
      if (backend == null) {
        throw new IllegalArgumentException("backend is missing");
      }
      this.backend = backend;
      return this;
    }

    /** Samples needed before the first training, >= 10 (default 50). */
    public Builder minSamples(int minSamples) {
      if (minSamples < 10) {
        throw new IllegalArgumentException("minSamples must be >= 10, was " + minSamples);
      }
      this.minSamples = minSamples;
      return this;
    }

    /** Retrain when the samples since the last training reach (growth - 1) x its size; > 1 (default 1.5). */
    public Builder retrainGrowth(double growth) {
      if (!(growth > 1) || Double.isInfinite(growth)) {
        throw new IllegalArgumentException("retrainGrowth must be finite and > 1, was " + growth);
      }
      this.retrainGrowth = growth;
      return this;
    }

    /** Retrain at the latest after this many new samples, >= 1 (default 1000). */
    public Builder retrainEvery(int samples) {
      Checks.atLeast("retrainEvery", samples, 1);
      this.retrainEvery = samples;
      return this;
    }

    /** The most samples kept, oldest forgotten first; >= minSamples (default 5000). */
    public Builder historyCapacity(int capacity) {
      if (capacity < 10) {
        throw new IllegalArgumentException("historyCapacity must be >= 10, was " + capacity);
      }
      this.historyCapacity = capacity;
      return this;
    }

    /** The share of the history held out to calibrate the quantiles, in [0.05, 0.5] (default 0.2). */
    public Builder calibrationShare(double share) {
      if (!(share >= 0.05 && share <= 0.5)) {
        throw new IllegalArgumentException("calibrationShare must be in [0.05, 0.5], was " + share);
      }
      this.calibrationShare = share;
      return this;
    }

    /** Boosting rounds (trees per dimension) for XGBoost, in [1, 10000] (default 50). */
    public Builder trees(int trees) {
      if (trees < 1 || trees > 10_000) {
        throw new IllegalArgumentException("trees must be in [1, 10000], was " + trees);
      }
      this.trees = trees;
      return this;
    }

    /** The maximum depth of every tree, in [1, 20] (default 6). */
    public Builder maxDepth(int depth) {
      if (depth < 1 || depth > 20) {
        throw new IllegalArgumentException("maxDepth must be in [1, 20], was " + depth);
      }
      this.maxDepth = depth;
      return this;
    }

    /** XGBoost's shrinkage (eta), in (0, 1] (default 0.1). */
    public Builder learningRate(double rate) {
      Checks.share("learningRate", rate);
      this.learningRate = rate;
      return this;
    }

    /** The seed of the calibration split and the learners (default 42). */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * Where trainings run (default: a daemon thread owned by the predictor, stopped by {@link #close}).
     * {@code Runnable::run} trains synchronously inside {@code learn}.
     */
    public Builder executor(Executor executor) {
      if (executor == null) {
        throw new IllegalArgumentException("executor is missing");
      }
      this.executor = executor;
      return this;
    }

    /** Where prediction errors are recorded (default: a tracker of its own); may be shared. */
    public Builder errorTracker(ErrorTracker tracker) {
      if (tracker == null) {
        throw new IllegalArgumentException("errorTracker is missing");
      }
      this.errorTracker = tracker;
      return this;
    }

    /** Runs on the training thread before each background fit (tests hold a training open with it). */
    Builder beforeFit(Runnable hook) {
      this.beforeFit = hook;
      return this;
    }

    /**
     * Builds the predictor.
     *
     * @throws IllegalArgumentException when historyCapacity < minSamples
     * @throws IllegalStateException when XGBOOST is asked for and cannot run here
     */
    public TreePredictor build() {
      if (historyCapacity < minSamples) {
        throw new IllegalArgumentException(
            "historyCapacity (" + historyCapacity + ") must be >= minSamples (" + minSamples + ")");
      }
      Backend resolved = backend;
      if (backend != Backend.CART) {
        String problem = ModelTrainer.xgboostProblem();
        if (problem == null) {
          resolved = Backend.XGBOOST;
        } else if (backend == Backend.XGBOOST) {
          throw new IllegalStateException(
              "XGBoost cannot run here (" + problem + "); use backend CART or AUTO");
        } else {
          resolved = Backend.CART;
        }
      }
      return new TreePredictor(this, resolved);
    }
  }
}
