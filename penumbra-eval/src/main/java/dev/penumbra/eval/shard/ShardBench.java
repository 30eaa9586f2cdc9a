package dev.penumbra.eval.shard;

import dev.penumbra.core.Resources;
import dev.penumbra.shard.ShardProfile;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The sharding benchmark: a batch_task trace replayed in compressed time against backends of fixed capacity, every
 * sharding policy side by side at several load levels, plus the TPC-H merged-answer check.
 *
 * <p>The trace's jobs, by arrival, are split in three: the first half is the history (profiles in the engine's
 * DuckDB history), the next tenth tunes Penumbra's two constants (its longest shard, its
 * shards in flight per request) at load 0.8 against uniform static on the same jobs, the rest (up to
 * {@code jobs} of it) is scored. Load is the scored jobs' requested core-seconds over capacity x compressed span:
 * arrivals are compressed to reach it.
 */
public final class ShardBench {

  /** Penumbra's p99 request latency at most this share of uniform static's. */
  public static final double TARGET_P99_RATIO = 0.7;
  /** ... at no more reserved core-seconds than uniform static's. */
  public static final double TARGET_RESERVED_RATIO = 1.0;
  /** Penumbra's median straggler ratio at most this. */
  public static final double TARGET_STRAGGLER = 1.5;
  static final List<Duration> TUNING_TARGETS = List.of(Duration.ofSeconds(300), Duration.ofSeconds(3600));
  static final List<Integer> TUNING_WINDOWS = List.of(32, 128);
  static final double TUNING_LOAD = 0.8;

  /**
   * @param trace a batch_task file
   * @param loads load levels, each in (0, 10]
   * @param backends number of backends (1..1000)
   * @param coresPerBackend cores each (1..10000)
   * @param shards N: uniform's shards per job (1..10000)
   * @param maxShards the most shards Penumbra and the oracle cut a job into (>= shards, <= 100000)
   * @param jobs most jobs scored (1..1000000)
   * @param killBackend whether backend 0 dies half-way through the arrivals
   * @param workDir where TPC-H is generated for the SQL check
   * @param tpchScale TPC-H scale factor of the check, 0 to skip it
   * @param maxEvents bound on each run's simulated events
   */
  public record Options(Path trace, List<Double> loads, int backends, int coresPerBackend, int shards, int maxShards,
      int jobs,
      boolean killBackend, Path workDir, double tpchScale, long maxEvents) {

    public Options {
      if (trace == null) {
        throw new IllegalArgumentException("trace is missing");
      }
      if (loads == null || loads.isEmpty()) {
        throw new IllegalArgumentException("loads must not be empty");
      }
      for (double l : loads) {
        if (!(l > 0 && l <= 10)) {
          throw new IllegalArgumentException("load must be in (0, 10], was " + l);
        }
      }
      range("backends", backends, 1, 1000);
      range("cores per backend", coresPerBackend, 1, 10_000);
      range("shards", shards, 1, 10_000);
      range("max shards", maxShards, shards, 100_000);
      range("jobs", jobs, 1, 1_000_000);
      if (!(tpchScale >= 0 && tpchScale <= 1)) {
        throw new IllegalArgumentException("tpch scale must be in [0, 1], was " + tpchScale);
      }
      if (maxEvents < 1) {
        throw new IllegalArgumentException("max events must be >= 1, was " + maxEvents);
      }
      loads = List.copyOf(loads);
    }

    private static void range(String what, long v, long lo, long hi) {
      if (v < lo || v > hi) {
        throw new IllegalArgumentException(what + " must be in " + lo + ".." + hi + ", was " + v);
      }
    }
  }

  /** One tuning candidate's figures on the tuning part (uniform static's have target and window 0). */
  public record Tuning(double targetShardSeconds, int window, double p50Seconds, double p99Seconds,
      double reservedCoreSeconds) {}

  /** A target, its value and whether it is met, at one load level. */
  public record Target(String name, double load, double target, double value, boolean met) {}

  /** Everything one run of the benchmark found. */
  public record Report(Options options, int historyJobs, int tuningJobs, int scoredJobs, int skippedTasks,
      List<Tuning> tuning, double targetShardSeconds, int window, List<ShardSimulation.Result> results,
      List<TpchShardCheck.Outcome> sql, List<Target> targets, double wallSeconds) {}

  private ShardBench() {}

  public static Report run(Options o, PrintStream progress) throws Exception {
    long t0 = System.nanoTime();
    BatchTrace trace = BatchTrace.read(o.trace());
    List<BatchTrace.Job> all = trace.jobs();
    if (all.size() < 20) {
      throw new IllegalArgumentException("trace " + o.trace() + " has " + all.size()
          + " finished jobs; the benchmark needs at least 20 (half history, a tenth tuning, the rest scored)");
    }
    int h = all.size() / 2;
    int t = Math.max(1, all.size() / 10);
    List<BatchTrace.Job> history = all.subList(0, h);
    List<BatchTrace.Job> tuningJobs = all.subList(h, h + t);
    List<BatchTrace.Job> scored = all.subList(h + t, Math.min(all.size(), h + t + o.jobs()));
    if (tuningJobs.size() > o.jobs()) {
      tuningJobs = tuningJobs.subList(0, o.jobs());
    }
    progress.printf(Locale.ROOT, "bench shard: %d jobs (%d tasks skipped): %d history, %d tuning, %d scored%n",
        all.size(), trace.skipped(), history.size(), tuningJobs.size(), scored.size());

    List<ShardProfile> profiles = profiles(history);
    List<Tuning> tuning = new ArrayList<>();
    // Never worse than the baseline: the candidate with the lowest p99 among those whose p50 is no worse than
    // uniform static's on the tuning part; if none, the lowest p50.
    ShardSimulation.Result base = new ShardSimulation(setup(o, tuningJobs, TUNING_LOAD, TUNING_TARGETS.get(0), 1,
        profiles, false), "uniform", TUNING_LOAD).run();
    tuning.add(new Tuning(0, 0, base.p50Seconds(), base.p99Seconds(), base.reservedCoreSeconds()));
    Duration best = null;
    int bestWindow = 0;
    double bestP99 = Double.POSITIVE_INFINITY;
    Duration fallback = TUNING_TARGETS.get(0);
    int fallbackWindow = TUNING_WINDOWS.get(0);
    double fallbackP50 = Double.POSITIVE_INFINITY;
    for (Duration target : TUNING_TARGETS) {
      for (int window : TUNING_WINDOWS) {
        ShardSimulation.Result r = new ShardSimulation(setup(o, tuningJobs, TUNING_LOAD, target, window, profiles,
            false), "penumbra", TUNING_LOAD).run();
        tuning.add(new Tuning(target.toMillis() / 1000.0, window, r.p50Seconds(), r.p99Seconds(),
            r.reservedCoreSeconds()));
        progress.printf(Locale.ROOT, "bench shard: tuning longest shard %ds, window %d: p50 %.0f s (uniform %.0f),"
            + " p99 %.0f s (uniform %.0f)%n", target.toSeconds(), window, r.p50Seconds(), base.p50Seconds(),
            r.p99Seconds(), base.p99Seconds());
        if (r.p50Seconds() <= base.p50Seconds() && r.p99Seconds() < bestP99) {
          bestP99 = r.p99Seconds();
          best = target;
          bestWindow = window;
        }
        if (r.p50Seconds() < fallbackP50) {
          fallbackP50 = r.p50Seconds();
          fallback = target;
          fallbackWindow = window;
        }
      }
    }
    if (best == null) {
      best = fallback;
      bestWindow = fallbackWindow;
    }
    List<ShardProfile> scoredHistory = new ArrayList<>(profiles);
    scoredHistory.addAll(profiles(tuningJobs));

    List<ShardSimulation.Result> results = new ArrayList<>();
    for (double load : o.loads()) {
      for (String policy : ShardSimulation.POLICIES) {
        ShardSimulation.Result r = new ShardSimulation(setup(o, scored, load, best, bestWindow, scoredHistory,
            o.killBackend()),
            policy, load).run();
        results.add(r);
        progress.printf(Locale.ROOT, "bench shard: load %.2f %-11s p50 %.0f s, p99 %.0f s, straggler %.2f,"
                + " reserved %.0f core-s, %d retries, %d events, %.1f s%n", load, policy, r.p50Seconds(),
            r.p99Seconds(), r.stragglerMedian(), r.reservedCoreSeconds(), r.retries(), r.events(), r.wallSeconds());
      }
    }
    List<TpchShardCheck.Outcome> sql = List.of();
    if (o.tpchScale() > 0) {
      progress.printf(Locale.ROOT, "bench shard: TPC-H scale %s merged-answer check%n", o.tpchScale());
      sql = TpchShardCheck.run(o.workDir(), o.tpchScale(), 42);
    }
    List<Target> targets = targets(results, sql);
    return new Report(o, history.size(), tuningJobs.size(), scored.size(), trace.skipped(), tuning,
        best.toMillis() / 1000.0, bestWindow, results, sql, targets, (System.nanoTime() - t0) / 1e9);
  }

  static List<ShardProfile> profiles(List<BatchTrace.Job> jobs) {
    List<ShardProfile> out = new ArrayList<>();
    for (BatchTrace.Job j : jobs) {
      long keys = j.instances();
      for (BatchTrace.Task t : j.tasks()) {
        // A whole task as one profile: its instances one after another on the CPU they requested.
        out.add(new ShardProfile("j" + j.id(), ShardSimulation.TYPE, "cpu" + t.cpuPercent(), keys, t.instances(),
            t.instances(), Resources.cpu(t.cpuPercent() * 10L), (double) t.instances() * t.seconds() * 1000));
      }
    }
    return out;
  }

  static ShardSimulation.Setup setup(Options o, List<BatchTrace.Job> jobs, double load, Duration target, int window,
      List<ShardProfile> history, boolean kill) {
    double work = jobs.stream().mapToDouble(BatchTrace.Job::coreSeconds).sum();
    double capacity = (double) o.backends() * o.coresPerBackend();
    double spanMs = work / (capacity * load) * 1000;
    long first = jobs.get(0).arrival();
    long last = jobs.get(jobs.size() - 1).arrival();
    double scale = last > first ? spanMs / (last - first) : 0;
    List<Long> arrivals = new ArrayList<>();
    for (BatchTrace.Job j : jobs) {
      arrivals.add(Math.round((j.arrival() - first) * scale));
    }
    long killAt = kill ? arrivals.get(arrivals.size() / 2) : -1;
    return new ShardSimulation.Setup(jobs, arrivals, o.backends(), o.coresPerBackend(), o.shards(), o.maxShards(),
        window, target, history, killAt, o.maxEvents());
  }

  static List<Target> targets(List<ShardSimulation.Result> results, List<TpchShardCheck.Outcome> sql) {
    Map<Double, Map<String, ShardSimulation.Result>> byLoad = new LinkedHashMap<>();
    for (ShardSimulation.Result r : results) {
      byLoad.computeIfAbsent(r.load(), k -> new LinkedHashMap<>()).put(r.policy(), r);
    }
    List<Target> out = new ArrayList<>();
    for (Map.Entry<Double, Map<String, ShardSimulation.Result>> e : byLoad.entrySet()) {
      ShardSimulation.Result p = e.getValue().get("penumbra");
      ShardSimulation.Result u = e.getValue().get("uniform");
      double load = e.getKey();
      double p99 = p.p99Seconds() / u.p99Seconds();
      double res = p.reservedCoreSeconds() / u.reservedCoreSeconds();
      out.add(new Target("p99_latency_to_uniform", load, TARGET_P99_RATIO, p99, p99 <= TARGET_P99_RATIO));
      out.add(new Target("reserved_core_seconds_to_uniform", load, TARGET_RESERVED_RATIO, res,
          res <= TARGET_RESERVED_RATIO));
      out.add(new Target("straggler_ratio_median", load, TARGET_STRAGGLER, p.stragglerMedian(),
          p.stragglerMedian() <= TARGET_STRAGGLER));
      double lostOrDup = p.keysLost() + p.keysDuplicated() + (p.requests() - p.completed());
      out.add(new Target("keys_lost_or_duplicated", load, 0, lostOrDup, lostOrDup == 0));
    }
    if (!sql.isEmpty()) {
      long wrong = sql.stream().filter(s -> !s.identical()).count();
      out.add(new Target("tpch_merged_answers_not_identical", Double.NaN, 0, wrong, wrong == 0));
    }
    return out;
  }
}
