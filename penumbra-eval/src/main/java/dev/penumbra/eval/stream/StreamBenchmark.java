package dev.penumbra.eval.stream;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.loop.LoopStats;
import dev.penumbra.stream.EmbeddedStream;
import dev.penumbra.stream.PlannerConfig;
import dev.penumbra.stream.Sampling;
import dev.penumbra.stream.ScalingTarget;
import dev.penumbra.stream.Shadow;
import dev.penumbra.stream.StreamController;
import dev.penumbra.stream.StreamPlanner;
import dev.penumbra.stream.StreamRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The stream scaling benchmark: replays arrival-rate traces, one per partition, and runs Penumbra's stream loop
 * ({@link StreamController}), a reactive scaler (Flink autoscaler / DS2 style), static provisioning at the
 * window's mean and peak, and an oracle that knows the rate ahead side by side on the same arrivals, at one load
 * level ({@link #run}) or several ({@link #sweep}). Then measures the shadow's overhead on a real embedded stream.
 *
 * <p>Time: a trace step of {@code stepMillis} lasts {@code stepMillis / speedup} in the run. Workers are
 * servers in that run time (a discrete-event simulation: two shared cores cannot host tens of CPU-bound
 * workers in parallel); each record's service time is its weight times the cost the {@link Work} function
 * is calibrated to, and the shadow runs that real function on the sample and measures its CPU time, which is
 * what Penumbra's planner sees. A worker asked for starts serving {@code startDelay} later, for every scaler.
 *
 * <p>Rate rule: over the replayed window with mean {@code m} and maximum {@code M} of the trace's values,
 * {@code rate = v * P / M} when {@code M >= 4m}; otherwise {@code rate = max(0, v - b) * P / (M - b)} with the
 * offset {@code b} in [0, m] found by bisection so that the rates' peak is 4x their mean (capped at {@code m}, so
 * the shape above the mean is kept; a trace with a long plateau then gets less than 4x). {@code P} is the peak rate:
 * {@code peakWorkers / cost} records per second unless given.
 *
 * <p>About 500 lines: one replay drives five scalers in lockstep on the same arrivals, and splitting the loop
 * would pass its shared state (arrivals, clocks, per-scaler partitions) between classes.
 */
public final class StreamBenchmark {

  private StreamBenchmark() {}

  /** One partition's rate trace: plain values at a fixed step. */
  public record RateSeries(String name, long stepMillis, double[] values) {
    public RateSeries {
      if (stepMillis <= 0) {
        throw new IllegalArgumentException("stepMillis must be > 0, was " + stepMillis);
      }
      if (values == null || values.length < 2) {
        throw new IllegalArgumentException("rate trace '" + name + "' needs at least 2 values");
      }
      for (double v : values) {
        if (!(v >= 0 && Double.isFinite(v))) {
          throw new IllegalArgumentException("rate trace '" + name + "' has a value that is negative or not finite: " + v);
        }
      }
    }
  }

  /**
   * @param speedup trace time per run time, > 0
   * @param durationSeconds run time replayed, > 0
   * @param warmupSeconds first run seconds not scored (every scaler runs; models learn), in [0, duration)
   * @param peakWorkers workers the peak needs (sets the peak rate), >= 1
   * @param peakRate records per second at the peak, overrides peakWorkers when > 0; NaN for none
   * @param costMicros CPU per record of weight 1, > 0
   * @param startDelaySeconds run time before a new worker serves, >= 0
   * @param samplingRate the shadow's share, in (0, 1]
   * @param overheadRounds measurement pairs (without / with shadow) for the overhead, >= 1; 0 skips it
   */
  public record Options(List<RateSeries> partitions, double speedup, double durationSeconds, double warmupSeconds,
      int peakWorkers, double peakRate, double costMicros, double startDelaySeconds, double samplingRate, long seed,
      int overheadRounds) {

    public Options {
      if (partitions == null || partitions.isEmpty()) {
        throw new IllegalArgumentException("at least one rate trace is needed");
      }
      partitions = List.copyOf(partitions);
      positive("speedup", speedup);
      positive("duration", durationSeconds);
      if (!(warmupSeconds >= 0 && warmupSeconds < durationSeconds)) {
        throw new IllegalArgumentException("warmup must be in [0, duration " + durationSeconds + "), was " + warmupSeconds);
      }
      if (peakWorkers < 1) {
        throw new IllegalArgumentException("peakWorkers must be >= 1, was " + peakWorkers);
      }
      if (!Double.isNaN(peakRate)) {
        positive("peakRate", peakRate);
      }
      positive("costMicros", costMicros);
      if (!(startDelaySeconds >= 0 && Double.isFinite(startDelaySeconds))) {
        throw new IllegalArgumentException("startDelay must be >= 0, was " + startDelaySeconds);
      }
      if (!(samplingRate > 0 && samplingRate <= 1)) {
        throw new IllegalArgumentException("sampling rate must be in (0, 1], was " + samplingRate);
      }
      if (overheadRounds < 0) {
        throw new IllegalArgumentException("overheadRounds must be >= 0, was " + overheadRounds);
      }
    }

    public static Options defaults(List<RateSeries> partitions) {
      return new Options(partitions, 3600, 360, 48, 8, Double.NaN, 1000, 3, 0.01, 1, 40);
    }

    private static void positive(String field, double v) {
      if (!(v > 0 && Double.isFinite(v))) {
        throw new IllegalArgumentException(field + " must be > 0, was " + v);
      }
    }
  }

  /** A partition as replayed: its rescaled rates and the workers its mean and peak need. */
  public record PartitionInfo(String name, int steps, double meanRate, double peakRate, double offset,
      int meanWorkers, int peakWorkers) {}

  /** One scaler's figures over the scored part of the run. */
  public record ScalerResult(String name, long records, double p50Millis, double p99Millis, long maxBacklog,
      double workerSeconds, long scalingActions, long lost) {}

  /** Primary throughput without and with the shadow on a real embedded stream. */
  public record Overhead(double samplingRate, double baselineRecordsPerSecond, double shadowRecordsPerSecond,
      double overhead, long sampled, long shadowProcessed, long shadowDropped) {}

  /**
   * Penumbra's loop at the end of the run: the rule its baseline guard let act, both rules' decayed costs, its
   * reserved over used CPU-time, the shadow's CPU share as the loop measured and budgeted it, and the shadow's CPU
   * over the primary's work over the whole run.
   */
  public record Loop(String acting, double penumbraCost, double baselineCost, long switches, double reservedPerUsed,
      double shadowShareBudgeted, double shadowCost) {}

  public record Result(Options options, List<PartitionInfo> partitions, List<ScalerResult> scalers,
      double measuredCostMicros, long shadowSampled, long shadowDropped, Overhead overhead, Loop loop,
      double wallSeconds) {

    public ScalerResult scaler(String name) {
      return scalers.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }
  }

  /**
   * Prefix of the JVM system properties that vary Penumbra's loop for tuning runs (defaults in brackets):
   * {@code utilisation} (0.9, the planner's target), {@code grace} (2 s), {@code backlogInNeed} (false),
   * {@code burstWindow} (0 s, off), {@code primaryCounts} (true: the simulated workers report their busy time
   * and processed records, as the embedded runtime does; false: the loop sees only the shadow),
   * {@code scaleUpTolerance} (0), {@code queueGuard} (true), {@code holdQuantile} (NaN, off); and for diagnosis
   * {@code debug} (true: how many partition-intervals the queue guard held at the reactive rule's size, on stderr)
   * and {@code trace} (a file prefix: one line per tick and partition with each scaler's workers and backlog,
   * Penumbra's planned CPU and whether the queue guard holds, written to {@code <prefix>-<peak rate>.txt}).
   */
  static final String TUNING = "penumbra.bench.stream.";
  static final boolean PRIMARY_COUNTS = Boolean.parseBoolean(System.getProperty(TUNING + "primaryCounts", "true"));

  public static final String PENUMBRA = "penumbra";
  public static final String REACTIVE = "reactive";
  public static final String STATIC_MEAN = "static-mean";
  public static final String STATIC_PEAK = "static-peak";
  public static final String ORACLE = "oracle";
  /** The oracle's planned utilisation: it knows the rate, not each record's weight or the Poisson arrivals. */
  static final double ORACLE_UTILISATION = 0.9;

  /** One load level of a sweep: the peak rate is {@code load} times what the nominal capacity serves. */
  public record Level(double load, Result result) {}

  /**
   * Runs every scaler at each load level in {@code loads} (each > 0; 1 = the traces' peaks need exactly
   * {@code peakWorkers} workers, the nominal capacity; 1.5 = half again more: overload): the same arrivals (same
   * seed), the rates scaled. The shadow's overhead on a real stream does not depend on the level; it is measured
   * once, with the first level.
   */
  public static List<Level> sweep(Options o, List<Double> loads, Consumer<String> progress)
      throws InterruptedException {
    if (loads == null || loads.isEmpty()) {
      throw new IllegalArgumentException("at least one load level is needed");
    }
    double cost = o.costMicros() / 1e6;
    double nominal = Double.isNaN(o.peakRate()) ? o.peakWorkers() / cost : o.peakRate();
    List<Level> levels = new ArrayList<>();
    for (int i = 0; i < loads.size(); i++) {
      double load = loads.get(i);
      if (!(load > 0 && Double.isFinite(load))) {
        throw new IllegalArgumentException("load level must be > 0, was " + load);
      }
      Options at = new Options(o.partitions(), o.speedup(), o.durationSeconds(), o.warmupSeconds(), o.peakWorkers(),
          load * nominal, o.costMicros(), o.startDelaySeconds(), o.samplingRate(), o.seed(),
          i == 0 ? o.overheadRounds() : 0);
      if (progress != null) {
        progress.accept(String.format(Locale.ROOT, "stream bench: load %s (%d of %d)", load, i + 1, loads.size()));
      }
      levels.add(new Level(load, run(at, progress)));
    }
    return levels;
  }

  public static Result run(Options o, Consumer<String> progress) throws InterruptedException {
    long wall0 = System.nanoTime();
    Work work = Work.calibrated(o.costMicros());
    double cost = o.costMicros() / 1e6;
    double peakRate = Double.isNaN(o.peakRate()) ? o.peakWorkers() / cost : o.peakRate();
    int n = o.partitions().size();
    double[][] rates = new double[n][];
    List<PartitionInfo> infos = new ArrayList<>();
    for (int p = 0; p < n; p++) {
      RateSeries s = o.partitions().get(p);
      int steps = (int) Math.ceil(o.durationSeconds() * o.speedup() * 1000 / s.stepMillis()) + 1;
      double[] v = new double[steps];
      for (int i = 0; i < steps; i++) {
        v[i] = s.values()[i % s.values().length];
      }
      double mean = Arrays.stream(v).average().orElse(0);
      double max = Arrays.stream(v).max().orElse(0);
      if (max <= 0) {
        throw new IllegalArgumentException("rate trace '" + s.name() + "' is all zero in the replayed window");
      }
      double b = max >= 4 * mean ? 0 : offsetForPeakToMean(v, mean, max, 4);
      double[] r = new double[steps];
      for (int i = 0; i < steps; i++) {
        r[i] = Math.max(0, v[i] - b) * peakRate / (max - b);
      }
      rates[p] = r;
      double rm = Arrays.stream(r).average().orElse(0);
      double rx = Arrays.stream(r).max().orElse(0);
      infos.add(new PartitionInfo(s.name(), steps, rm, rx, b, Math.max(1, (int) Math.ceil(rm * cost - 1e-9)),
          Math.max(1, (int) Math.ceil(rx * cost - 1e-9))));
    }

    String[] names = {PENUMBRA, REACTIVE, STATIC_MEAN, STATIC_PEAK, ORACLE};
    LatencyHistogram[] lat = new LatencyHistogram[names.length];
    SimPartition[][] sims = new SimPartition[names.length][n];
    for (int k = 0; k < names.length; k++) {
      lat[k] = new LatencyHistogram();
      for (int p = 0; p < n; p++) {
        int start = names[k].equals(STATIC_PEAK) ? infos.get(p).peakWorkers() : infos.get(p).meanWorkers();
        sims[k][p] = new SimPartition(start, o.startDelaySeconds(), lat[k], o.warmupSeconds());
      }
    }

    // Penumbra: the shadow runs the real function on the sample; the controller plans and reserves.
    double tick = 1.0;
    Sampling sampling = Sampling.everyNth(o.samplingRate());
    Shadow shadow = Shadow.start("bench", work, 1 << 16);
    Sampling.Sampler[] samplers = new Sampling.Sampler[n];
    for (int p = 0; p < n; p++) {
      samplers[p] = sampling.sampler(p);
    }
    ManualClock clock = new ManualClock(Instant.EPOCH);
    Ledger ledger = Ledger.inMemory(clock);
    int maxWorkers = 4 * Math.max(o.peakWorkers(), infos.stream().mapToInt(PartitionInfo::peakWorkers).max().orElse(1));
    ledger.addNode("bench", Resources.of(n * maxWorkers * 1000L, n * maxWorkers * (64L << 20)));
    PlannerConfig pc = PlannerConfig.defaults()
        .withLead(Duration.ofMillis(Math.round((o.startDelaySeconds() + tick) * 1000)))
        .withPriority(Priority.STANDARD)
        .withTargetUtilisation(Double.parseDouble(System.getProperty(TUNING + "utilisation", "0.9")))
        .withWorkers(1, maxWorkers)
        .withDefaultCostSeconds(cost);
    SimTarget target = new SimTarget(sims[0]);
    StreamController controller = StreamController.builder(new StreamPlanner(pc), target, shadow, sampling)
        .clock(clock).ledger(ledger, "bench")
        .grace(Duration.ofSeconds(Long.getLong(TUNING + "grace", 2)))
        .backlogInNeed(Boolean.getBoolean(TUNING + "backlogInNeed"))
        .burstWindow(Duration.ofSeconds(Long.getLong(TUNING + "burstWindow", 0)))
        .scaleUpTolerance(Double.parseDouble(System.getProperty(TUNING + "scaleUpTolerance", "0")))
        .queueGuard(Boolean.parseBoolean(System.getProperty(TUNING + "queueGuard", "true")))
        .holdQuantile(Double.parseDouble(System.getProperty(TUNING + "holdQuantile", "NaN")))
        .workerStartup(Duration.ofMillis(Math.round(o.startDelaySeconds() * 1000))).build();
    ReactiveScaler[] reactive = new ReactiveScaler[n];
    for (int p = 0; p < n; p++) {
      reactive[p] = new ReactiveScaler(new ReactiveScaler.Settings(10, 0.7, 0.3, pc.lead().toMillis() / 1e3, 5, 30,
          maxWorkers), tick);
    }

    SplittableRandom random = new SplittableRandom(o.seed());
    double[] nextArrival = new double[n];
    for (int p = 0; p < n; p++) {
      nextArrival[p] = Double.NaN;
    }
    long[] stepOf = new long[n];
    double primaryCpuSeconds = 0;
    int ticks = (int) Math.ceil(o.durationSeconds() / tick);
    long[] scalingsAtWarmup = new long[names.length];
    double[] workerSecondsAtWarmup = new double[names.length];
    byte[][] weights = new byte[101][];
    for (int w = 0; w <= 100; w++) {
      weights[w] = new byte[] {(byte) (50 + w)};
    }
    String traceFile = System.getProperty(TUNING + "trace");
    java.io.PrintStream trace = traceFile == null ? null : traceTo(traceFile + "-" + o.peakRate() + ".txt");
    for (int t = 1; t <= ticks; t++) {
      double end = t * tick;
      for (int p = 0; p < n; p++) {
        RateSeries s = o.partitions().get(p);
        double stepSeconds = s.stepMillis() / 1000.0 / o.speedup();
        double x = Double.isNaN(nextArrival[p]) ? 0 : nextArrival[p];
        // Poisson arrivals, piecewise constant rate per trace step (memoryless: restart at each step boundary).
        while (true) {
          int step = (int) Math.min(rates[p].length - 1, stepOf[p]);
          double rate = rates[p][step];
          double boundary = (stepOf[p] + 1) * stepSeconds;
          double gap = rate <= 0 ? Double.POSITIVE_INFINITY : -Math.log(1 - random.nextDouble()) / rate;
          if (x + gap >= boundary) {
            if (boundary >= end) {
              x = end;
              break;
            }
            x = boundary;
            stepOf[p]++;
            continue;
          }
          if (x + gap >= end) {
            x = end; // memoryless: the next tick draws afresh from here
            break;
          }
          x += gap;
          int w = random.nextInt(101);
          double service = cost * (50 + w) / 100.0;
          primaryCpuSeconds += service;
          for (int k = 0; k < names.length; k++) {
            sims[k][p].arrive(x, service);
          }
          String key = "k" + random.nextInt(1000);
          if (samplers[p].test(key)) {
            shadow.offer(new StreamRecord(p, key, weights[w]));
          }
        }
        nextArrival[p] = x;
      }
      for (SimPartition[] row : sims) {
        for (SimPartition sp : row) {
          sp.advance(end);
        }
      }
      shadow.awaitIdle(Duration.ofSeconds(30));
      clock.set(Instant.ofEpochMilli(Math.round(end * 1000)));
      controller.tick();
      for (int p = 0; p < n; p++) {
        if (trace != null) {
          trace.printf(Locale.ROOT, "%.0f %d pen %d back %d | rea %d back %d | ora %d | plan %d miss %.2f%n", end, p,
              sims[0][p].workers(), sims[0][p].backlog(), sims[1][p].workers(), sims[1][p].backlog(),
              sims[4][p].workers(), controller.lastPlan().get(p).demand().at(0.9).cpuMillis(),
              controller.reactiveHolds(p) ? 1.0 : 0.0);
        }
        sims[1][p].scale(reactive[p].decide(end, sims[1][p]));
        sims[4][p].scale(oracle(rates[p], o.partitions().get(p).stepMillis() / 1000.0 / o.speedup(), end,
            o.startDelaySeconds() + tick, cost, sims[4][p].backlog(), maxWorkers));
      }
      if (Math.abs(end - o.warmupSeconds()) < tick / 2 || (o.warmupSeconds() == 0 && t == 1)) {
        for (int k = 0; k < names.length; k++) {
          for (SimPartition sp : sims[k]) {
            scalingsAtWarmup[k] += sp.scalings;
            workerSecondsAtWarmup[k] += sp.workerSeconds();
            sp.maxBacklog = sp.backlog();
          }
        }
      }
      if (progress != null && (t % Math.max(1, ticks / 10) == 0 || t == ticks)) {
        progress.accept(String.format(Locale.ROOT, "stream bench: %d/%d s replayed, %.1f s wall", t, ticks,
            (System.nanoTime() - wall0) / 1e9));
      }
    }
    if (trace != null) {
      trace.close();
    }
    List<ScalerResult> results = new ArrayList<>();
    for (int k = 0; k < names.length; k++) {
      long records = 0;
      long maxBacklog = 0;
      double ws = 0;
      long sc = 0;
      for (SimPartition sp : sims[k]) {
        ws += sp.workerSeconds();
        sc += sp.scalings;
        maxBacklog = Math.max(maxBacklog, sp.maxBacklog);
      }
      long lost = 0;
      for (SimPartition sp : sims[k]) {
        lost += sp.drain();
        records += sp.scoredRecords();
      }
      results.add(new ScalerResult(names[k], records, lat[k].quantile(0.5) * 1e3, lat[k].quantile(0.99) * 1e3,
          maxBacklog, ws - workerSecondsAtWarmup[k], sc - scalingsAtWarmup[k], lost));
    }
    shadow.close();
    long sampled = 0;
    long dropped = 0;
    long processed = 0;
    long cpu = 0;
    for (var st : shadow.stats()) {
      sampled += st.offered();
      dropped += st.dropped();
      processed += st.processed();
      cpu += st.cpuNanos();
    }
    double measuredMicros = processed == 0 ? Double.NaN : cpu / 1e3 / processed;
    if (progress != null && o.overheadRounds() > 0) {
      progress.accept("stream bench: measuring the shadow's overhead on a real embedded stream");
    }
    Overhead overhead = o.overheadRounds() == 0 ? null : measureOverhead(work, o.samplingRate(), o.overheadRounds());
    LoopStats loop = controller.stats();
    if (Boolean.getBoolean(TUNING + "debug")) {
      System.err.printf(Locale.ROOT, "stream bench: reactive held %d partition-intervals%n",
          controller.reactiveHeldIntervals());
    }
    return new Result(o, infos, results, measuredMicros, sampled, dropped, overhead,
        new Loop(loop.guard().acting().label(), loop.guard().penumbraCost(), loop.guard().baselineCost(),
            loop.guard().switches(), loop.cpuReservedPerUsed(), controller.shadowShare(),
            processed == 0 ? Double.NaN : cpu / 1e9 / primaryCpuSeconds),
        (System.nanoTime() - wall0) / 1e9);
  }

  /**
   * Primary throughput of a one-partition, one-worker embedded stream fed as fast as it takes records, without
   * and with a shadow at {@code rate} (every-nth), in {@code rounds} alternating pairs (which of the two runs
   * first alternates too); the overhead is {@code 1 - median over pairs of (with / without)}, so a load change
   * on a shared machine hits both runs of a pair alike. Each run processes about a quarter second of work.
   */
  public static Overhead measureOverhead(Work work, double rate, int rounds) throws InterruptedException {
    int records = (int) Math.max(200, Math.round(0.25e6 / work.costMicros()));
    double[] base = new double[rounds];
    double[] with = new double[rounds];
    double[] ratio = new double[rounds];
    long sampled = 0;
    long processed = 0;
    long dropped = 0;
    run(work, null, records, null); // warm-up
    for (int r = 0; r < rounds; r++) {
      if (r % 2 == 0) {
        base[r] = run(work, null, records, null);
      }
      try (Shadow shadow = Shadow.start("overhead", work, 1024)) {
        with[r] = run(work, shadow, records, Sampling.everyNth(rate));
        shadow.awaitIdle(Duration.ofSeconds(10));
        var st = shadow.stats(0);
        sampled += st.offered();
        processed += st.processed();
        dropped += st.dropped();
      }
      if (r % 2 == 1) {
        base[r] = run(work, null, records, null);
      }
      ratio[r] = with[r] / base[r];
    }
    return new Overhead(rate, median(base), median(with), 1 - median(ratio), sampled, processed, dropped);
  }

  private static double run(Work work, Shadow shadow, int records, Sampling sampling) throws InterruptedException {
    EmbeddedStream.Builder b = EmbeddedStream.builder(1, work).initialWorkers(1).queueCapacity(256);
    if (shadow != null) {
      b.shadow(sampling, shadow);
    }
    byte[] value = {100};
    try (EmbeddedStream stream = b.build()) {
      long t0 = System.nanoTime();
      for (int i = 0; i < records; i++) {
        stream.submit(new StreamRecord(0, "k" + (i % 1000), value));
      }
      stream.awaitIdle(Duration.ofMinutes(5));
      return records / ((System.nanoTime() - t0) / 1e9);
    }
  }

  /**
   * The oracle scaler: it knows the trace's rate ahead. At {@code now} it runs what the highest rate from now until
   * a worker asked for now would serve plus one tick ({@code reach}) needs at {@link #ORACLE_UTILISATION}, plus
   * what drains the backlog within that reach: workers it asks for come in time, and it never holds capacity for a
   * rise further away than that.
   */
  static int oracle(double[] rates, double stepSeconds, double now, double reach, double cost, long backlog,
      int maxWorkers) {
    int from = (int) Math.min(rates.length - 1, Math.floor(now / stepSeconds));
    int to = (int) Math.min(rates.length - 1, Math.floor((now + reach) / stepSeconds));
    double peak = 0;
    for (int i = from; i <= to; i++) {
      peak = Math.max(peak, rates[i]);
    }
    double need = (peak + backlog / Math.max(reach, 1e-9)) * cost / ORACLE_UTILISATION;
    return (int) Math.max(1, Math.min(maxWorkers, Math.ceil(need - 1e-9)));
  }

  /**
   * The offset b in [0, mean] at which max(0, v - b) has peak / mean = target, by bisection (the ratio grows
   * with b); capped at the mean so that the shape above the mean is kept.
   */
  static double offsetForPeakToMean(double[] v, double mean, double max, double target) {
    double lo = 0;
    double hi = mean;
    for (int i = 0; i < 60; i++) {
      double b = (lo + hi) / 2;
      double sum = 0;
      for (double x : v) {
        sum += Math.max(0, x - b);
      }
      double ratio = sum <= 0 ? Double.POSITIVE_INFINITY : (max - b) / (sum / v.length);
      if (ratio < target) {
        lo = b;
      } else {
        hi = b;
      }
    }
    return lo;
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static java.io.PrintStream traceTo(String file) {
    try {
      return new java.io.PrintStream(file, java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("cannot write the tick trace to " + file + ": " + e.getMessage(), e);
    }
  }

  /** Penumbra's simulated partitions as the controller's target. */
  private record SimTarget(SimPartition[] sims) implements ScalingTarget {
    @Override
    public int partitions() {
      return sims.length;
    }

    @Override
    public int workers(int partition) {
      return sims[partition].workers();
    }

    @Override
    public void scale(int partition, int workers) {
      sims[partition].scale(workers);
    }

    @Override
    public long backlog(int partition) {
      return sims[partition].backlog();
    }

    @Override
    public long busyNanos(int partition) {
      return PRIMARY_COUNTS ? Math.round(sims[partition].busySeconds() * 1e9) : -1;
    }

    @Override
    public long processed(int partition) {
      return PRIMARY_COUNTS ? sims[partition].processed : -1;
    }
  }
}
