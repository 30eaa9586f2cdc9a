package dev.penumbra.query.predict;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Demand;
import dev.penumbra.core.Quantiles;
import dev.penumbra.core.Resources;
import dev.penumbra.core.feedback.ErrorStats;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.predict.Features;
import dev.penumbra.core.predict.Predictor;
import dev.penumbra.query.QueryProfile;
import dev.penumbra.query.predict.QueryPrediction.Tier;
import dev.penumbra.query.shadow.ScaledProfile;
import dev.penumbra.query.shadow.ShadowResult;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Resource Prediction Module: predicts a full query's memory, CPU, wall time and bytes read from its shadow,
 * in three tiers (fingerprint history, a feature-based model behind the core {@link Predictor} SPI, sample
 * scale-up), and learns from every actual. The model is injected (the server and CLI build a gradient-boosted
 * one); without it the history and scale-up tiers answer. Thread-safe. See docs/query.md for the rules.
 *
 * <p>Over 500 lines: the three tiers, their blending and the bounded per-shape history share one lock.
 */
public final class QueryPredictor implements AutoCloseable {

  /** The four predicted metrics, as scored in the error tracker. */
  public enum Metric {
    MEMORY("memory"), CPU("cpu"), WALL("wall"), BYTES_READ("bytes_read");

    private final String label;

    Metric(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }

    long of(QueryProfile p) {
      return switch (this) {
        case MEMORY -> p.peakMemoryBytes();
        case CPU -> p.cpuNanos();
        case WALL -> p.wallNanos();
        case BYTES_READ -> p.bytesRead();
      };
    }

    Estimate of(QueryPrediction p) {
      return switch (this) {
        case MEMORY -> p.memoryBytes();
        case CPU -> p.cpuNanos();
        case WALL -> p.wallNanos();
        case BYTES_READ -> p.bytesRead();
      };
    }
  }

  /**
   * The conditions a query will run under.
   *
   * @param cores cores of the primary engine (>= 1)
   * @param running queries already running on it (>= 0)
   * @param threads threads the query itself is granted (>= 1): wall time depends on it
   */
  public record Load(int cores, int running, int threads) {
    public Load {
      Checks.atLeast("cores", cores, 1);
      Checks.atLeast("running", running, 0);
      Checks.atLeast("threads", threads, 1);
    }

    /** A load with one thread for the query. */
    public Load(int cores, int running) {
      this(cores, running, 1);
    }
  }

  /**
   * One learned run.
   *
   * @param threads the threads the primary ran it with
   * @param historyMemoryQError q-error, for this run, of the median memory of the fingerprint's earlier runs (what
   *     the history predicts without a sample to scale by; NaN when there were none)
   * @param historyCpuQError the same for CPU time
   */
  private record Run(ShadowResult shadow, QueryProfile actual, int threads, double historyMemoryQError,
      double historyCpuQError) {}

  /** Runs whose history predictions decide whether a fingerprint is settled. */
  static final int SETTLE_RUNS = 5;
  /** Largest memory q-error of the history tier, on each of the last runs, for a settled fingerprint. */
  static final double SETTLE_MEMORY_QERROR = 1.5;
  /** Largest CPU q-error likewise: CPU is compressible, a miss changes how long the query runs, not whether. */
  static final double SETTLE_CPU_QERROR = 2.0;
  /**
   * CPU times below this count as this much when settling: a few-ms query's CPU swings several-fold with
   * scheduling noise on a busy machine, and at that size any of them gets one thread.
   */
  static final long SETTLE_CPU_FLOOR_NANOS = 10_000_000;

  private final int minHistory;
  private final int historyWindow;
  private final int primaryThreads;
  private final int cores;
  private final long minMemoryBytes;
  private final Predictor model;
  private final ErrorTracker tracker;
  /** Corrects the per-operator scaled estimate; learns from every sampled run. */
  private final ResidualModel residuals = new ResidualModel(20, 5, 2000);
  private final boolean operatorScaling;
  private final boolean blendTime;
  private final boolean blendMemory;
  private final boolean fetchCost;
  /** Fetch time per result row of recent runs (see {@link #fetchNanosPerRow()}). */
  private final Deque<Double> fetchSamples = new ArrayDeque<>();
  /**
   * Runs per fingerprint, least recently used first: a client sending ever new query shapes would otherwise grow
   * it without bound; beyond {@code maxFingerprints} the least recently used shape is forgotten.
   */
  private final Map<String, Deque<Run>> history;

  private QueryPredictor(Builder b) {
    this.minHistory = b.minHistory;
    this.historyWindow = b.historyWindow;
    int maxShapes = b.maxFingerprints;
    this.history = new java.util.LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Deque<Run>> eldest) {
        return size() > maxShapes;
      }
    };
    this.primaryThreads = b.primaryThreads;
    this.cores = b.cores;
    this.minMemoryBytes = b.minMemoryBytes;
    this.model = b.model;
    this.tracker = b.tracker;
    this.operatorScaling = b.operatorScaling;
    this.blendTime = b.blendTime;
    this.blendMemory = b.blendMemory;
    this.fetchCost = b.fetchCost;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Predicts for an otherwise idle primary, the query running with the default {@code primaryThreads}. */
  public QueryPrediction predict(ShadowResult shadow) {
    return predict(shadow, new Load(cores, 0, Math.min(cores, primaryThreads)));
  }

  /**
   * Predicts for a query granted {@code load.threads()} threads, stretching the wall time for the queries
   * running beside it.
   */
  public QueryPrediction predict(ShadowResult shadow, Load load) {
    if (shadow == null || load == null) {
      throw new IllegalArgumentException("shadow and load must not be null");
    }
    return adjust(unloaded(Fingerprint.of(shadow.sql()), shadow, load.threads()), load);
  }

  /**
   * The prediction for {@code threads} threads on an otherwise idle primary, {@code fingerprint} being {@code
   * shadow}'s ({@link Fingerprint#of}, computed once per query by the caller). {@link #underLoad} stretches it for
   * the queries running beside it; {@link #learn(String, ShadowResult, QueryProfile, int, QueryPrediction)} scores it.
   */
  public QueryPrediction predict(String fingerprint, ShadowResult shadow, int threads) {
    if (fingerprint == null || shadow == null) {
      throw new IllegalArgumentException("fingerprint and shadow must not be null");
    }
    Checks.atLeast("threads", threads, 1);
    return unloaded(fingerprint, shadow, threads);
  }

  /** {@code unloaded} with its wall time stretched for the queries running now (see {@link #adjust}). */
  public QueryPrediction underLoad(QueryPrediction unloaded, Load load) {
    if (unloaded == null || load == null) {
      throw new IllegalArgumentException("prediction and load must not be null");
    }
    return adjust(unloaded, load);
  }

  private QueryPrediction unloaded(String fp, ShadowResult shadow, int threads) {
    List<Run> runs = runs(fp);
    if (runs.size() >= minHistory || shadow.sample() == null && !runs.isEmpty()) {
      return fromHistory(fp, shadow, runs, threads);
    }
    if (operatorScaling && cutOff(shadow)) {
      // The sample ran out of its cap: its operators give a floor of the time. A primary profiled on its own sample
      // (blendMemory off) takes memory from its plan's estimate, as the model's memory describes the DuckDB sample.
      QueryPrediction p = atLeast(modelFitted() ? fromModel(fp, shadow, threads) : wholeQuery(fp, shadow, threads),
          shadow.operators().cpuNanos(), threads);
      return blendMemory || !CUT_OFF_PLAN_MEMORY ? p : new QueryPrediction(fp,
          band(Math.max(minMemoryBytes, shadow.operators().workingBytes())), p.cpuNanos(), p.wallNanos(),
          p.bytesRead(), p.tier(), true);
    }
    boolean newShape = operatorScaling && runs.isEmpty() && shadow.operators() != null;
    if (modelFitted() && !newShape) {
      return fromModel(fp, shadow, threads);
    }
    if (newShape && modelFitted()) {
      boolean own = ownTime(shadow);
      boolean shape = own && OWN_SHAPE && !superlinear(shadow);
      QueryPrediction ops = perOperator(fp, shadow, threads);
      if (shape) {
        // Memory as the operators hold it, uncorrected; time corrected as any (the correction carries what a small
        // query costs whatever its operators do, which a run of a few milliseconds is mostly made of).
        QueryPrediction raw = perOperator(fp, shadow, threads, false);
        ops = new QueryPrediction(ops.fingerprint(), raw.memoryBytes(), ops.cpuNanos(), ops.wallNanos(),
            ops.bytesRead(), ops.tier(), ops.lowConfidence());
      }
      boolean ownTime = own || fetchBound(shadow, threads);
      return blend(ops, fromModel(fp, shadow, threads), blendTime && !ownTime, blendMemory && !shape);
    }
    return scaleUp(fp, shadow, threads);
  }

  /**
   * A design variant: {@code -Dpenumbra.query.cutOffPlanMemory=false} takes a cut-off PostgreSQL shape's memory from
   * the whole-query model as for DuckDB (the design before).
   */
  static final boolean CUT_OFF_PLAN_MEMORY =
      Boolean.parseBoolean(System.getProperty("penumbra.query.cutOffPlanMemory", "true"));

  private static boolean cutOff(ShadowResult s) {
    return s.operators() != null && s.operators().cutOff();
  }

  /**
   * {@code p} with CPU and wall time raised to at least {@code cpuNanos} (wall: over the threads), the upper quantiles
   * to at least 2x and 4x it (as the whole-query rule's bands), and low confidence.
   */
  static QueryPrediction atLeast(QueryPrediction p, double cpuNanos, int threads) {
    return new QueryPrediction(p.fingerprint(), p.memoryBytes(), atLeast(p.cpuNanos(), cpuNanos),
        atLeast(p.wallNanos(), cpuNanos / threads), p.bytesRead(), p.tier(), true);
  }

  private static Estimate atLeast(Estimate e, double bound) {
    return Estimate.of(Math.max(e.point(), bound), Math.max(e.at(0.9), 2 * bound), Math.max(e.at(0.99), 4 * bound));
  }

  /**
   * Whether a new shape's time comes from its operators alone rather than meeting the model halfway: where the model,
   * which learned time from shapes whose work grows about as the data does, would extrapolate. So when the sample's
   * operators say the work grows at most a tenth as fast as the data (a top-N, a LIMIT that stops its scan), far
   * faster than it ({@value #SUPERLINEAR_RATIO}x the data's growth or more: a subplan correlated on another column than
   * the sampling key), or not at all (the sample ran the whole work: tables copied whole).
   * {@code -Dpenumbra.query.operatorTime=bounded} measures the design before it (only the first case),
   * {@code -Dpenumbra.query.boundedTime=false} the one before that (none).
   */
  static boolean ownTime(ShadowResult s) {
    if (!BOUNDED_TIME || s.operators() == null) {
      return false;
    }
    double g = s.operators().cpuGrowth();
    boolean bounded = s.scanScale() >= 10 && g * BOUNDED_RATIO <= s.scanScale();
    if (OPERATOR_TIME.equals("bounded")) {
      return bounded;
    }
    return bounded || g <= FLAT_GROWTH || superlinear(s);
  }

  /**
   * Whether the sample's operators grow at least {@value #SUPERLINEAR_RATIO}x as fast as the data: a subplan or join
   * correlated off the sampling key, whose held bytes the operators grow as a product of both sides' growth. Its time
   * is its operators' (the model would extrapolate), but its memory still meets the model's, corrected: answered by
   * the operators alone, a count(DISTINCT) over partsupp joined to part was predicted 620 MiB for a run of 9 MiB.
   */
  static boolean superlinear(ShadowResult s) {
    return s.operators() != null && s.operators().cpuGrowth() >= SUPERLINEAR_RATIO * Math.max(1, s.scanScale());
  }

  /**
   * A design variant, off by default ({@code -Dpenumbra.query.fetchBound=true}): whether a new shape's wall time is
   * mostly the client's fetch of its result rows (at least {@value #FETCH_BOUND_SHARE} of the per-operator wall time),
   * to take it from its operators and that fetch alone instead of meeting the model halfway. The fetch is linear in
   * the rows, which the sample's root operator counts, while the model learned wall time from shapes returning few
   * rows (a wide-string sort of 1.1M result rows: operators and fetch 14.3 s, the model 0.48 s, the run 15.1 s). Not
   * kept: on a loaded machine the learned time per fetched row swings with the load, and a 1.5M-row grouping was then
   * predicted 48 s for 2.5 s, where the model's half had damped it (docs/benchmarks.md).
   */
  boolean fetchBound(ShadowResult s, int threads) {
    if (!FETCH_BOUND || s.operators() == null) {
      return false;
    }
    double fetch = fetchNanosPerRow() * s.operators().resultRows();
    double[] est = physical(s.operators(), threads, minMemoryBytes, fetchNanosPerRow(), fixedNanos());
    return fetch >= FETCH_BOUND_SHARE * est[ResidualModel.WALL];
  }

  static final double FETCH_BOUND_SHARE = 0.5;
  static final boolean FETCH_BOUND = Boolean.parseBoolean(System.getProperty("penumbra.query.fetchBound", "false"));

  static final double BOUNDED_RATIO = 10;
  /** Operator growth at or below this: the sample's run was (nearly) the whole query's work. */
  static final double FLAT_GROWTH = 1.5;
  static final double SUPERLINEAR_RATIO = 3;
  static final boolean BOUNDED_TIME = Boolean.parseBoolean(System.getProperty("penumbra.query.boundedTime", "true"));
  static final String OPERATOR_TIME = System.getProperty("penumbra.query.operatorTime", "extrapolated");

  /**
   * A shape the model has not learned: its own profile scaled per operator, and the model's answer from other
   * shapes' costs, which err for different reasons, meet in the middle (geometric mean of the points); the
   * quantiles keep the per-operator rule's spread, which was measured on shapes held out of its training.
   */
  static QueryPrediction blend(QueryPrediction operators, QueryPrediction model) {
    return blend(operators, model, true, true);
  }

  /**
   * {@link #blend(QueryPrediction, QueryPrediction)}, CPU and wall time from the operators alone unless time, memory
   * unless memory.
   */
  static QueryPrediction blend(QueryPrediction operators, QueryPrediction model, boolean time, boolean memory) {
    return new QueryPrediction(operators.fingerprint(),
        memory ? meet(operators.memoryBytes(), model.memoryBytes()) : operators.memoryBytes(),
        time ? meet(operators.cpuNanos(), model.cpuNanos()) : operators.cpuNanos(),
        time ? meet(operators.wallNanos(), model.wallNanos()) : operators.wallNanos(), operators.bytesRead(),
        Tier.SCALE_UP, operators.lowConfidence());
  }

  private static Estimate meet(Estimate operators, Estimate model) {
    double a = Math.max(1, operators.point());
    double point = Math.sqrt(a * Math.max(1, model.point()));
    return Estimate.of(point, point * operators.at(0.9) / a, point * operators.at(0.99) / a);
  }

  /**
   * Whether a query's sample run can be skipped: its fingerprint is <em>settled</em> when it has at least
   * {@code minHistory} runs and, on each of its last {@value #SETTLE_RUNS} runs, the median of the earlier runs
   * (the history's answer without a sample) was within {@value #SETTLE_MEMORY_QERROR}x of the actual memory and
   * within
   * {@value #SETTLE_CPU_QERROR}x of the actual CPU time. Returns why, or empty when it is not settled.
   */
  public java.util.Optional<String> settled(String sql) {
    Checks.notNull("sql", sql);
    if (!isSettled(Fingerprint.of(sql))) {
      return java.util.Optional.empty();
    }
    List<Run> runs = runs(Fingerprint.of(sql));
    if (runs.size() < Math.max(minHistory, SETTLE_RUNS + 1)) {
      return java.util.Optional.empty();
    }
    double mem = 0;
    double cpu = 0;
    for (Run r : runs.subList(runs.size() - SETTLE_RUNS, runs.size())) {
      if (!(r.historyMemoryQError() <= SETTLE_MEMORY_QERROR) || !(r.historyCpuQError() <= SETTLE_CPU_QERROR)) {
        return java.util.Optional.empty();
      }
      mem = Math.max(mem, r.historyMemoryQError());
      cpu = Math.max(cpu, r.historyCpuQError());
    }
    return java.util.Optional.of(String.format(Locale.ROOT,
        "fingerprint settled: %d runs, history within %.2fx memory and %.2fx CPU on the last %d",
        runs.size(), mem, cpu, SETTLE_RUNS));
  }

  /**
   * Whether the shape of {@code fingerprint} is settled (see {@link #settled}), without formatting a reason: the
   * fast path asks it for every query.
   */
  public boolean isSettled(String fingerprint) {
    List<Run> runs = runs(fingerprint);
    if (runs.size() < Math.max(minHistory, SETTLE_RUNS + 1)) {
      return false;
    }
    for (Run r : runs.subList(runs.size() - SETTLE_RUNS, runs.size())) {
      if (!(r.historyMemoryQError() <= SETTLE_MEMORY_QERROR) || !(r.historyCpuQError() <= SETTLE_CPU_QERROR)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Wall-time load rule: the query's parallelism p = clamp(cpu / wall, 1, threads); with {@code running} other
   * queries the cores are shared by running + 1, so wall × max(1, (running + 1) · p / cores).
   */
  QueryPrediction adjust(QueryPrediction p, Load load) {
    double par = Math.min(load.threads(), Math.max(1.0,
        (double) p.cpuNanos().point() / Math.max(1, p.wallNanos().point())));
    double factor = Math.max(1.0, (load.running() + 1) * par / load.cores());
    if (factor == 1.0) {
      return p;
    }
    return new QueryPrediction(p.fingerprint(), p.memoryBytes(), p.cpuNanos(), p.wallNanos().scale(factor),
        p.bytesRead(), p.tier(), p.lowConfidence());
  }

  // ------------------------------------------------------------------ tier 1: fingerprint history

  /**
   * Wall time uses only the runs granted the same threads when there are any (wall time depends on them);
   * the other metrics use every run.
   */
  private QueryPrediction fromHistory(String fp, ShadowResult shadow, List<Run> runs, int threads) {
    Map<Metric, Estimate> e = new EnumMap<>(Metric.class);
    List<Run> same = runs.stream().filter(r -> r.threads() == threads).toList();
    for (Metric m : Metric.values()) {
      List<Run> use = m == Metric.WALL && !same.isEmpty() ? same : runs;
      double[] v = new double[use.size()];
      for (int i = 0; i < v.length; i++) {
        Run r = use.get(i);
        v[i] = m.of(r.actual()) * ratio(shadow, r.shadow(), m == Metric.MEMORY);
      }
      Arrays.sort(v);
      e.put(m, Estimate.of(Quantiles.ofSorted(v, 0.5), Quantiles.ofSorted(v, 0.9), Quantiles.ofSorted(v, 0.99)));
    }
    return new QueryPrediction(fp, e.get(Metric.MEMORY), e.get(Metric.CPU), e.get(Metric.WALL),
        e.get(Metric.BYTES_READ), Tier.HISTORY, runs.size() < 10);
  }

  /**
   * How much more work this shadow's sample did than a past run's: the ratio of sample CPU (memory: sample
   * memory), 1 inside the noise band [0.8, 1.25] or when either run was cut off, clamped to [0.25, 4].
   */
  static double ratio(ShadowResult now, ShadowResult then, boolean memory) {
    if (now.sample() == null || then.sample() == null) {
      return 1.0;
    }
    double a = memory ? now.sample().peakMemoryBytes() : now.sample().cpuNanos();
    double b = memory ? then.sample().peakMemoryBytes() : then.sample().cpuNanos();
    if (a <= 0 || b <= 0) {
      return 1.0;
    }
    double r = a / b;
    if (r >= 0.8 && r <= 1.25) {
      return 1.0;
    }
    return Math.max(0.25, Math.min(4.0, r));
  }

  // ------------------------------------------------------------------ tier 2: the model

  private QueryPrediction fromModel(String fp, ShadowResult shadow, int threads) {
    Demand d = model.predict(features(shadow, threads));
    Resources p = d.point();
    Resources q90 = d.at(0.9);
    Resources q99 = d.at(0.99);
    return new QueryPrediction(fp,
        Estimate.of(p.memoryBytes(), q90.memoryBytes(), q99.memoryBytes()),
        Estimate.of(p.cpuMillis() * 1000.0, q90.cpuMillis() * 1000.0, q99.cpuMillis() * 1000.0),
        Estimate.of(p.networkBytesPerSec() * 1000.0, q90.networkBytesPerSec() * 1000.0,
            q99.networkBytesPerSec() * 1000.0),
        Estimate.of(p.ioBytesPerSec(), q90.ioBytesPerSec(), q99.ioBytesPerSec()),
        Tier.MODEL, d.lowConfidence());
  }

  /**
   * The model's target packs the four metrics into one {@link Resources} (the tree predictor fits each
   * dimension separately, in log space): cpu = CPU µs, memory = bytes, io = bytes read, network = wall µs.
   */
  static Resources pack(QueryProfile a) {
    return new Resources(a.cpuNanos() / 1000, a.peakMemoryBytes(), a.bytesRead(), a.wallNanos() / 1000);
  }

  /**
   * The names of the model's features ({@link #features}): its schema. A model saved by an earlier version is put back
   * only when it was trained on exactly these.
   */
  public static final java.util.Set<String> FEATURES = java.util.Set.of("fraction", "effectiveFraction", "cutOff",
      "sampleCpuNanos", "sampleMemoryBytes", "sampleWallNanos", "sampleRowsScanned", "sampleRowsReturned",
      "sampleScanBytes", "scanScale", "memoryScale", "scaledCpuNanos", "scaledMemoryBytes", "estimatedRows",
      "estimatedRowsScanned", "maxEstimatedCardinality", "operators", "joins", "aggregates", "sorts", "windows",
      "filters", "tables", "threads");

  /**
   * The model's features: the sample's measurements, its scale factors, the primary's plan, and the threads the
   * query runs with (wall time depends on them). Their names are {@link #FEATURES}.
   */
  static Features features(ShadowResult s, int threads) {
    QueryProfile p = s.sample();
    double cpu = p == null ? s.shadowWallNanos() : p.cpuNanos();
    double mem = p == null ? 0 : p.peakMemoryBytes();
    return Features.builder()
        .put("fraction", s.fraction())
        .put("effectiveFraction", s.effectiveFraction())
        .put("cutOff", s.cutOff() ? 1 : 0)
        .put("sampleCpuNanos", cpu)
        .put("sampleMemoryBytes", mem)
        .put("sampleWallNanos", p == null ? s.shadowWallNanos() : p.wallNanos())
        .put("sampleRowsScanned", p == null ? 0 : p.rowsScanned())
        .put("sampleRowsReturned", p == null ? 0 : p.rowsReturned())
        .put("sampleScanBytes", s.sampleScanBytes())
        .put("scanScale", s.scanScale())
        .put("memoryScale", s.memoryScale())
        .put("scaledCpuNanos", cpu * s.scanScale())
        .put("scaledMemoryBytes", mem * s.memoryScale())
        .put("estimatedRows", s.plan().estimatedRows())
        .put("estimatedRowsScanned", s.plan().estimatedRowsScanned())
        .put("maxEstimatedCardinality", s.plan().maxEstimatedCardinality())
        .put("operators", s.plan().operators())
        .put("joins", s.plan().joins())
        .put("aggregates", s.plan().aggregates())
        .put("sorts", s.plan().sorts())
        .put("windows", s.plan().windows())
        .put("filters", s.plan().filters())
        .put("tables", s.tables().size())
        .put("threads", threads)
        .build();
  }

  // ------------------------------------------------------------------ tier 3: scale-up

  /**
   * CPU and bytes read grow with the rows scanned (× scanScale); wall time too, divided by the threads the
   * query is granted; memory by the growth of the largest materialized input (× memoryScale), at least
   * minMemoryBytes. Quantiles are fixed bands: p90 = 2 × point, p99 = 4 × point. A cut-off sample counts as
   * having used its whole shadow time in CPU.
   */
  private QueryPrediction scaleUp(String fp, ShadowResult s, int threads) {
    if (operatorScaling && s.operators() != null && !cutOff(s)) {
      return perOperator(fp, s, threads);
    }
    QueryPrediction whole = wholeQuery(fp, s, threads);
    return operatorScaling && cutOff(s) ? atLeast(whole, s.operators().cpuNanos(), threads) : whole;
  }

  /** The whole-query rule: the sample's measurements grown by the scan and memory scale factors. */
  private QueryPrediction wholeQuery(String fp, ShadowResult s, int threads) {
    QueryProfile p = s.sample();
    double cpu = (p == null ? s.shadowWallNanos() : p.cpuNanos()) * s.scanScale();
    double wall = (p == null ? s.shadowWallNanos() : p.wallNanos()) * s.scanScale() / threads;
    double bytes = (p == null ? s.sampleScanBytes() : Math.max(p.bytesRead(), s.sampleScanBytes())) * s.scanScale();
    double mem = Math.max(minMemoryBytes, (p == null ? 0 : p.peakMemoryBytes()) * s.memoryScale());
    return new QueryPrediction(fp, band(mem), band(cpu), band(wall), band(bytes), Tier.SCALE_UP, true);
  }

  private static Estimate band(double v) {
    return Estimate.of(v, 2 * v, 4 * v);
  }

  /**
   * The per-operator scaled estimate, corrected by the residual model once it has fitted; its quantiles are the
   * model's out-of-fold residuals on held-out shapes (before it fits: p90 = 2x, p99 = 4x). Where the sample saw no
   * rows for a materializing operator the estimate leans on the optimizer, so the upper quantiles are twice as
   * wide (in log space).
   */
  private QueryPrediction perOperator(String fp, ShadowResult s, int threads) {
    return perOperator(fp, s, threads, true);
  }

  /**
   * A design variant: {@code -Dpenumbra.query.ownShape=false} meets the memory of a shape whose operators grow unlike
   * the data ({@link #ownTime}) with the model's and corrects it by the residual model, as before. By default, unless
   * they grow faster than the data ({@link #superlinear}), such a shape's memory is its operators' alone, uncorrected:
   * both models learned from shapes that grow as the data does and extrapolate here (a whole-table DISTINCT whose
   * sample ran the whole work, 3.1 MiB, was predicted 9.5 MiB). Its time stays corrected: the correction carries what
   * a small query costs whatever its operators do (uncorrected, a 12 ms top-5 over part was predicted 1.9 ms).
   */
  static final boolean OWN_SHAPE = Boolean.parseBoolean(System.getProperty("penumbra.query.ownShape", "true"));

  /** {@link #perOperator(String, ShadowResult, int)}, the points corrected by the residual model only if {@code correct}. */
  private QueryPrediction perOperator(String fp, ShadowResult s, int threads, boolean correct) {
    double[] est = physical(s.operators(), threads, minMemoryBytes, fetchNanosPerRow(), fixedNanos());
    double[] x = residualFeatures(s, est, threads);
    ResidualModel.Fit fit = residuals.fit();
    double widen = s.operators().fallback() ? 2 : 1;
    Estimate[] e = new Estimate[ResidualModel.METRICS];
    for (int m = 0; m < ResidualModel.METRICS; m++) {
      double point = est[m] * (fit == null || !correct ? 1 : Math.exp(fit.logCorrection(x, m)));
      double u90 = fit == null ? Math.log(2) : fit.upper()[m][0];
      double u99 = fit == null ? Math.log(4) : fit.upper()[m][1];
      e[m] = Estimate.of(point, point * Math.exp(widen * u90), point * Math.exp(widen * u99));
    }
    if (e[ResidualModel.MEMORY].point() < minMemoryBytes) {
      e[ResidualModel.MEMORY] = Estimate.of(minMemoryBytes, Math.max(minMemoryBytes, e[0].at(0.9)),
          Math.max(minMemoryBytes, e[0].at(0.99)));
    }
    QueryProfile p = s.sample();
    double bytes = Math.max(p.bytesRead(), s.sampleScanBytes()) * s.scanScale();
    return new QueryPrediction(fp, e[ResidualModel.MEMORY], e[ResidualModel.CPU], e[ResidualModel.WALL],
        band(bytes), Tier.SCALE_UP, fit == null || s.operators().fallback());
  }

  /**
   * The physical estimate before correction: memory (working + the pages the engine counts), CPU, and wall time over
   * the threads.
   */
  static double[] physical(ScaledProfile o, int threads, long minMemory, double fetchNanosPerRow) {
    return physical(o, threads, minMemory, fetchNanosPerRow, 0);
  }

  /** {@link #physical(ScaledProfile, int, long, double)} plus a fixed cost per query in the wall time. */
  static double[] physical(ScaledProfile o, int threads, long minMemory, double fetchNanosPerRow, double fixedNanos) {
    double memory = Math.max(minMemory, o.workingBytes() + o.pageShare() * o.scanBytes());
    double cpu = Math.max(1, o.cpuNanos());
    return new double[] {memory, cpu, fixedNanos + cpu / threads + fetchNanosPerRow * o.resultRows()};
  }

  /** Runs whose per-operator wall time (before the fixed cost) is at most this teach the fixed cost. */
  static final double FIXED_MAX_ESTIMATE_NANOS = 10e6;
  /** Runs of that size needed before the fixed cost counts. */
  static final int FIXED_MIN_RUNS = 5;
  /**
   * A design variant, off by default: {@code -Dpenumbra.query.fixedCost=true} adds a learned fixed cost per query to
   * the per-operator wall time. Measured on PostgreSQL (docs/benchmarks.md) it learned how much the machine's load
   * stretched small queries (8 ms at load 20-30), and over-predicted the sub-millisecond ones 5-30x; small queries
   * were over-predicted without it as well, not under.
   */
  static final boolean FIXED_COST = Boolean.parseBoolean(System.getProperty("penumbra.query.fixedCost", "false"));
  /** What small runs took beyond their per-operator wall time (see {@link #fixedNanos()}). */
  private final Deque<Double> fixedSamples = new ArrayDeque<>();

  /**
   * The wall time a query costs whatever its operators do (the client's round trip, parsing and planning, starting
   * and ending the run, the engine's report of its plan): the median of actual wall - per-operator wall over the
   * last 200 runs whose per-operator wall was at most {@code FIXED_MAX_ESTIMATE_NANOS} (10 ms, where it dominates and
   * the operators' own error is small in absolute terms), at least 0; 0 before {@value #FIXED_MIN_RUNS} such runs.
   * The residual correction is multiplicative, so it cannot add a constant: a query of 0.1 ms of operator time that
   * takes 3 ms would read as 30x low while a 300 ms one carrying the same 3 ms reads as 1.01x.
   */
  double fixedNanos() {
    if (!FIXED_COST) {
      return 0;
    }
    synchronized (fixedSamples) {
      if (fixedSamples.size() < FIXED_MIN_RUNS) {
        return 0;
      }
      double[] v = fixedSamples.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      return Math.max(0, v[v.length / 2]);
    }
  }

  void learnFixed(double perOperatorWallNanos, long actualWallNanos) {
    if (perOperatorWallNanos > FIXED_MAX_ESTIMATE_NANOS) {
      return;
    }
    synchronized (fixedSamples) {
      fixedSamples.addLast(actualWallNanos - perOperatorWallNanos);
      while (fixedSamples.size() > 200) {
        fixedSamples.removeFirst();
      }
    }
  }

  /** Runs returning fewer rows than this say nothing about the cost of fetching one. */
  static final long FETCH_MIN_ROWS = 1_000;

  /**
   * The client's time per result row beyond the engine's CPU time: the median over the last runs on one thread that
   * returned at least {@value #FETCH_MIN_ROWS} rows of (wall - CPU) / rows returned; 0 before any such run or when
   * turned off. A query returning hundreds of thousands of rows spends most of its wall time handing them over,
   * which no operator's time includes.
   */
  double fetchNanosPerRow() {
    if (!fetchCost) {
      return 0;
    }
    synchronized (fetchSamples) {
      if (fetchSamples.isEmpty()) {
        return 0;
      }
      double[] v = fetchSamples.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      return v[v.length / 2];
    }
  }

  void learnFetch(QueryProfile actual, int threads) {
    if (threads != 1 || actual.rowsReturned() < FETCH_MIN_ROWS) {
      return;
    }
    double perRow = Math.max(0, actual.wallNanos() - actual.cpuNanos()) / (double) actual.rowsReturned();
    synchronized (fetchSamples) {
      fetchSamples.addLast(perRow);
      while (fetchSamples.size() > 200) {
        fetchSamples.removeFirst();
      }
    }
  }

  /** What the residual model sees: the operator mix, growth, sample size and the estimate's own size (log10). */
  static double[] residualFeatures(ShadowResult s, double[] est, int threads) {
    ScaledProfile o = s.operators();
    return new double[] {
        1,
        o.scanShare(), o.joinShare(), o.aggregateShare(), o.sortShare(), o.windowShare(), o.boundedShare(),
        Math.log10(Math.max(1, o.cpuGrowth())),
        Math.log10(Math.max(1, o.memoryGrowth())),
        Math.log10(1 + o.sampleRows()),
        o.fallback() ? 1 : 0,
        Math.log10(est[ResidualModel.MEMORY] / (1 << 20)),
        Math.log10(Math.max(1e-3, est[ResidualModel.CPU] / 1e6)),
        Math.log10(1 + o.scanBytes() / Math.max(1, o.workingBytes())),
        Math.log(threads) / Math.log(2)};
  }

  /**
   * log(actual / estimate) of memory, the actual scored as at least {@code floor}: the predictor never names less,
   * and PostgreSQL measures 0 bytes for a run without a sort or hash table, which would otherwise read as a
   * correction of 1 MiB / 1 byte and drag every estimate down.
   */
  static double memoryResidual(long actualBytes, double estimate, long floor) {
    return Math.log(Math.max(floor, actualBytes) / estimate);
  }

  private void learnResidual(String fp, ShadowResult s, QueryProfile actual, int threads) {
    if (s.operators() == null || s.operators().cutOff()) {
      return;
    }
    double fixed = fixedNanos();
    double[] est = physical(s.operators(), threads, minMemoryBytes, fetchNanosPerRow(), fixed);
    double[] y = {
        memoryResidual(actual.peakMemoryBytes(), est[ResidualModel.MEMORY], minMemoryBytes),
        Math.log(Math.max(1, actual.cpuNanos()) / est[ResidualModel.CPU]),
        Math.log(Math.max(1, actual.wallNanos()) / est[ResidualModel.WALL])};
    residuals.add(fp, residualFeatures(s, est, threads), y);
    learnFixed(est[ResidualModel.WALL] - fixed, actual.wallNanos());
  }

  // ------------------------------------------------------------------ feedback

  /** {@link #learn(ShadowResult, QueryProfile, int)} for a run with the default {@code primaryThreads}. */
  public void learn(ShadowResult shadow, QueryProfile actual) {
    learn(shadow, actual, primaryThreads);
  }

  /**
   * Scores every tier that could have answered for this shadow (its prediction before learning, at the threads
   * the run had, without load adjustment) against the actual, under {@code query/<tier>/<metric>}, and the tier
   * that would have been chosen also under {@code query/<metric>}; then adds the run to the fingerprint's
   * history and to the model. A {@link ShadowResult#skipped() skipped} shadow has no sample: only the history
   * tier is scored and the model learns nothing from it (its features would be empty).
   *
   * @param threads the threads the primary ran the query with (>= 1)
   */
  public void learn(ShadowResult shadow, QueryProfile actual, int threads) {
    if (shadow == null) {
      throw new IllegalArgumentException("shadow and actual must not be null");
    }
    learn(Fingerprint.of(shadow.sql()), shadow, actual, threads, null);
  }

  /**
   * {@link #learn(ShadowResult, QueryProfile, int)} with the fingerprint computed once by the caller and, when not
   * null, the prediction it made for these threads ({@link #predict(String, ShadowResult, int)}, before load): that
   * one is scored as the chosen tier's instead of predicting again.
   */
  public void learn(String fingerprint, ShadowResult shadow, QueryProfile actual, int threads,
      QueryPrediction predicted) {
    if (fingerprint == null || shadow == null || actual == null) {
      throw new IllegalArgumentException("fingerprint, shadow and actual must not be null");
    }
    Checks.atLeast("threads", threads, 1);
    String fp = fingerprint;
    List<Run> runs = runs(fp);
    QueryPrediction chosen = predicted != null ? predicted : unloaded(fp, shadow, threads);
    List<QueryPrediction> tiers = new ArrayList<>();
    QueryPrediction hist = runs.isEmpty() ? null
        : chosen.tier() == Tier.HISTORY ? chosen : fromHistory(fp, shadow, runs, threads);
    if (hist != null) {
      tiers.add(hist);
    }
    if (!shadow.skipped()) {
      if (modelFitted()) {
        // The chosen prediction is the model's own when a known shape's uncut sample answered through it.
        boolean modelAnswered = predicted != null && chosen.tier() == Tier.MODEL && !runs.isEmpty() && !cutOff(shadow);
        tiers.add(modelAnswered ? chosen : fromModel(fp, shadow, threads));
      }
      tiers.add(scaleUp(fp, shadow, threads));
    }
    for (QueryPrediction p : tiers) {
      score(statsName(p.tier(), null), p, actual);
    }
    score("query", chosen, actual);
    // What the history alone (no sample to scale by, as when the sample run is skipped) would have predicted.
    double memQ = runs.isEmpty() ? Double.NaN
        : ErrorTracker.qError(median(runs, Metric.MEMORY), actual.peakMemoryBytes());
    double cpuQ = runs.isEmpty() ? Double.NaN : ErrorTracker.qError(
        Math.max(SETTLE_CPU_FLOOR_NANOS, median(runs, Metric.CPU)),
        Math.max(SETTLE_CPU_FLOOR_NANOS, actual.cpuNanos()));
    synchronized (history) {
      Deque<Run> d = history.computeIfAbsent(fp, k -> new ArrayDeque<>());
      d.addLast(new Run(shadow, actual, threads, memQ, cpuQ));
      while (d.size() > historyWindow) {
        d.removeFirst();
      }
    }
    if (!shadow.skipped() && model != null) {
      model.learn(features(shadow, threads), pack(actual));
    }
    learnFetch(actual, threads);
    if (!shadow.skipped()) {
      learnResidual(fp, shadow, actual, threads);
    }
  }

  /**
   * What a sample made after its query ran teaches: the model and the sampled tiers' scores learn the run's
   * {@code actual} from {@code sampled}'s features, as if the sample had run before it. The run itself is already in
   * the shape's history ({@link #learn} with the shadow the query ran on); that entry now carries the sample (so
   * {@link #export} holds it), and no run is added. A sample cut off or skipped teaches nothing.
   */
  public void learnSample(String fingerprint, ShadowResult sampled, QueryProfile actual, int threads) {
    if (fingerprint == null || sampled == null || actual == null) {
      throw new IllegalArgumentException("fingerprint, sampled and actual must not be null");
    }
    Checks.atLeast("threads", threads, 1);
    if (sampled.skipped() || sampled.sample() == null) {
      return;
    }
    if (modelFitted()) {
      QueryPrediction m = fromModel(fingerprint, sampled, threads);
      score(statsName(m.tier(), null), m, actual);
    }
    synchronized (history) {
      // The run in the history now carries its sample, so what is exported (and restored) feeds the model it again.
      Deque<Run> d = history.get(fingerprint);
      if (d != null) {
        List<Run> runs = new ArrayList<>(d);
        for (int i = runs.size() - 1; i >= 0; i--) {
          Run r = runs.get(i);
          if (r.actual().equals(actual) && r.threads() == threads && r.shadow().skipped()) {
            runs.set(i, new Run(sampled, r.actual(), r.threads(), r.historyMemoryQError(), r.historyCpuQError()));
            d.clear();
            d.addAll(runs);
            break;
          }
        }
      }
    }
    QueryPrediction up = scaleUp(fingerprint, sampled, threads);
    score(statsName(up.tier(), null), up, actual);
    if (model != null) {
      model.learn(features(sampled, threads), pack(actual));
    }
    learnResidual(fingerprint, sampled, actual, threads);
  }

  private static double median(List<Run> runs, Metric m) {
    double[] v = runs.stream().mapToDouble(r -> m.of(r.actual())).sorted().toArray();
    return Quantiles.ofSorted(v, 0.5);
  }

  private void score(String prefix, QueryPrediction p, QueryProfile actual) {
    for (Metric m : Metric.values()) {
      Estimate e = m.of(p);
      tracker.record(prefix + "/" + m.label(), e.point(), e.at(0.9), m.of(actual));
    }
  }

  private static String statsName(Tier tier, Metric m) {
    String t = "query/" + tier.name().toLowerCase(Locale.ROOT);
    return m == null ? t : t + "/" + m.label();
  }

  /** The error statistics of one tier in one metric (q-error of the point, exceedance of the p90). */
  public ErrorStats errors(Tier tier, Metric metric) {
    return tracker.stats(statsName(tier, metric));
  }

  /** The error statistics of the predictions that would have been served, in one metric. */
  public ErrorStats errors(Metric metric) {
    return tracker.stats("query/" + metric.label());
  }

  public ErrorTracker errorTracker() {
    return tracker;
  }

  /** Query shapes whose runs are remembered now (at most {@code maxFingerprints}). */
  public int fingerprints() {
    synchronized (history) {
      return history.size();
    }
  }

  /** Runs remembered for a fingerprint (at most the history window). */
  public int historySize(String fingerprint) {
    return runs(fingerprint).size();
  }

  /**
   * One run the history holds, as {@link #export()} gives it for saving and {@link #restore} takes back.
   *
   * @param historyMemoryQError the history tier's memory q-error on this run (null: there was no history yet)
   * @param historyCpuQError the same for CPU time
   */
  public record Learned(ShadowResult shadow, QueryProfile actual, int threads, Double historyMemoryQError,
      Double historyCpuQError) {}

  /** Every run of every fingerprint's history, least recently used fingerprint first, oldest run first. */
  public List<Learned> export() {
    List<Learned> out = new ArrayList<>();
    synchronized (history) {
      for (Deque<Run> d : history.values()) {
        for (Run r : d) {
          out.add(new Learned(r.shadow(), r.actual(), r.threads(), finiteOrNull(r.historyMemoryQError()),
              finiteOrNull(r.historyCpuQError())));
        }
      }
    }
    return out;
  }

  private static Double finiteOrNull(double v) {
    return Double.isFinite(v) ? v : null;
  }

  /**
   * Puts back runs an earlier process learned ({@link #export()}): into the fingerprints' histories and, for
   * sampled runs, the model — without scoring them again (their scores are restored with the error tracker).
   */
  public void restore(List<Learned> runs) {
    restore(runs, true);
  }

  /**
   * {@link #restore(List)}, feeding the sampled runs to the model only when {@code feedModel}: false when the model's
   * own saved state was put back already (re-feeding would train it again from a window of fewer samples).
   */
  public void restore(List<Learned> runs, boolean feedModel) {
    for (Learned l : runs) {
      if (l.shadow() == null || l.actual() == null || l.threads() < 1) {
        throw new IllegalArgumentException("a saved run needs a shadow, an actual and threads >= 1");
      }
      String fp = Fingerprint.of(l.shadow().sql());
      synchronized (history) {
        Deque<Run> d = history.computeIfAbsent(fp, k -> new ArrayDeque<>());
        d.addLast(new Run(l.shadow(), l.actual(), l.threads(),
            l.historyMemoryQError() == null ? Double.NaN : l.historyMemoryQError(),
            l.historyCpuQError() == null ? Double.NaN : l.historyCpuQError()));
        while (d.size() > historyWindow) {
          d.removeFirst();
        }
      }
      if (feedModel && !l.shadow().skipped() && model != null) {
        model.learn(features(l.shadow(), l.threads()), pack(l.actual()));
      }
    }
  }

  private List<Run> runs(String fp) {
    synchronized (history) {
      Deque<Run> d = history.get(fp);
      return d == null ? List.of() : List.copyOf(d);
    }
  }

  /** Whether a model was given (it learns from sampled runs only). */
  public boolean hasModel() {
    return model != null;
  }

  /** Whether the model tier answers: a model was given and it has been fitted. */
  public boolean modelFitted() {
    return model != null && model.fitted();
  }

  /**
   * The latest shadow of {@code sql}'s fingerprint (its plan, tables and scale factors), or empty when the shape
   * has not run yet: a query of a known shape can reuse it instead of planning again.
   */
  public java.util.Optional<ShadowResult> lastShadow(String sql) {
    return lastShadowOf(Fingerprint.of(sql));
  }

  /** {@link #lastShadow} by the query's fingerprint, computed once by the caller. */
  public java.util.Optional<ShadowResult> lastShadowOf(String fingerprint) {
    List<Run> runs = runs(fingerprint);
    return runs.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(runs.get(runs.size() - 1).shadow());
  }

  /** Runs of a fingerprint before its history answers (the builder's {@code minHistory}). */
  public int minHistory() {
    return minHistory;
  }

  /** Closes the model when it holds resources (a training thread); the predictor owns the model it was given. */
  @Override
  public void close() {
    if (model instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception e) {
        throw new IllegalStateException("closing model '" + model.name() + "' failed: " + e.getMessage(), e);
      }
    }
  }

  /** Options of a {@link QueryPredictor}. */
  public static final class Builder {
    private int minHistory = 5;
    private int historyWindow = 20;
    private int maxFingerprints = 10_000;
    private int primaryThreads = 1;
    private int cores = Runtime.getRuntime().availableProcessors();
    private long minMemoryBytes = 1L << 20;
    private Predictor model;
    private ErrorTracker tracker = new ErrorTracker();
    private boolean operatorScaling = true;
    private boolean blendTime = true;
    private boolean blendMemory = true;
    private boolean fetchCost = true;

    private Builder() {}

    /**
     * Whether the per-operator wall time adds the client's fetch time of the predicted result rows, learned from
     * runs (default true); false leaves it to the residual correction.
     */
    public Builder fetchCost(boolean on) {
      this.fetchCost = on;
      return this;
    }

    /**
     * Whether a new shape's CPU and wall time meet the model's point halfway, as its memory does (default true);
     * false takes them from the per-operator estimate alone.
     */
    public Builder blendTime(boolean on) {
      this.blendTime = on;
      return this;
    }

    /**
     * Whether a new shape's memory meets the model's point halfway (default true); false takes it from the
     * per-operator estimate alone.
     */
    public Builder blendMemory(boolean on) {
      this.blendMemory = on;
      return this;
    }

    /**
     * Whether a sampled shape without history is predicted from its profile scaled per operator (default true);
     * false restores the whole-query rule (the model, else the sample times the scan growth), for comparison.
     */
    public Builder operatorScaling(boolean on) {
      this.operatorScaling = on;
      return this;
    }

    /** Runs of a fingerprint before its history answers (>= 1, default 5). */
    public Builder minHistory(int n) {
      Checks.atLeast("minHistory", n, 1);
      this.minHistory = n;
      return this;
    }

    /** Most recent runs kept per fingerprint (>= 1, default 20). */
    /** Query shapes (fingerprints) whose runs are remembered (>= 1, default 10,000; least recently used go). */
    public Builder maxFingerprints(int n) {
      Checks.atLeast("maxFingerprints", n, 1);
      this.maxFingerprints = n;
      return this;
    }

    public Builder historyWindow(int n) {
      Checks.atLeast("historyWindow", n, 1);
      this.historyWindow = n;
      return this;
    }

    /**
     * Threads a query runs with when the caller does not say ({@link #predict(ShadowResult)},
     * {@link #learn(ShadowResult, QueryProfile)}; >= 1, default 1).
     */
    public Builder primaryThreads(int n) {
      Checks.atLeast("primaryThreads", n, 1);
      this.primaryThreads = n;
      return this;
    }

    /** Cores of the primary for the idle load (>= 1, default the JVM's available processors). */
    public Builder cores(int n) {
      Checks.atLeast("cores", n, 1);
      this.cores = n;
      return this;
    }

    /** Smallest memory the scale-up tier predicts (>= 0, default 1 MiB). */
    public Builder minMemoryBytes(long bytes) {
      Checks.atLeast("minMemoryBytes", bytes, 0);
      this.minMemoryBytes = bytes;
      return this;
    }

    /**
     * The tier-2 model over the shadow's features (default none: history and scale-up answer). The predictor owns
     * it and closes it when it is {@link AutoCloseable}.
     */
    public Builder model(Predictor model) {
      Checks.notNull("model", model);
      this.model = model;
      return this;
    }

    public Builder errorTracker(ErrorTracker tracker) {
      Checks.notNull("errorTracker", tracker);
      this.tracker = tracker;
      return this;
    }

    public QueryPredictor build() {
      return new QueryPredictor(this);
    }
  }
}
