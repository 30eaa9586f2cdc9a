package dev.penumbra.eval.query;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.eval.report.Quantiles;
import dev.penumbra.query.QueryGateway;
import dev.penumbra.query.QueryReport;
import dev.penumbra.query.QueryRequest;
import dev.penumbra.query.ShadowStats;
import dev.penumbra.query.engine.Outcome;
import dev.penumbra.query.engine.PrimaryEngine;
import dev.penumbra.query.engine.QueryResult;
import dev.penumbra.query.workload.QuerySpec;
import dev.penumbra.query.workload.Workload;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The load sweep of {@code penumbra bench query}: at each load level (a share of the node's capacity, from light to
 * overload) the same open-loop stream of queries — Poisson arrivals, training-template queries, 20% critical, 40%
 * standard, 40% batch — runs three ways side by side: Penumbra (the trained gateway), FIFO (equal fixed slots,
 * arrival order) and no admission control (every query at once with an even share). Capacity is the query rate
 * the node sustains: FIFO's throughput in the benchmark's burst (without a burst, cores / mean primary time of the
 * training queries, which overstates it: those ran one at a time with every free core).
 */
public final class QuerySweep {
  private QuerySweep() {}

  /** The longest one mode may take at one level before its unfinished queries count as failures. */
  static final Duration LEVEL_CAP = Duration.ofMinutes(10);

  /** Latency percentiles of one priority at one level, milliseconds. */
  public record Pct(int queries, double p50, double p95, double p99) {}

  /**
   * One mode at one load level.
   *
   * @param reservedGibSeconds memory held for the queries while they ran (reservation, slot or share x wall time)
   * @param usedGibSeconds memory the queries used (peak x wall time)
   * @param reservedCoreSeconds threads held x wall time
   * @param usedCoreSeconds CPU time the queries used
   * @param shadowShare shadow time over primary time during the level (Penumbra only; 0 for the others)
   * @param shadows what the shadow gate chose during the level (Penumbra only; zeros for the others)
   * @param checkShare the sandbox's parser check time over primary time during the level (Penumbra only)
   * @param time where the level's time went (throughput is completed queries / makespan)
   */
  public record Level(double load, String mode, Map<Priority, Pct> latency, double throughputPerSecond, int completed,
      int failedMemory, int otherFailures, double reservedGibSeconds, double usedGibSeconds,
      double reservedCoreSeconds, double usedCoreSeconds, double shadowShare, Shadows shadows,
      double checkShare, Time time) {}

  /**
   * Where one mode's time went at one level, means per query in milliseconds.
   *
   * @param makespanSeconds first arrival to last completion (what throughput divides by)
   * @param lastArrivalSeconds the last query's arrival (the same for every mode of a level)
   * @param wallMs the primary's run
   * @param beforeRunMs arrival to the primary's start: latency minus the run (FIFO: waiting for a worker)
   * @param reservationWaitMs of it, waiting for a reservation (Penumbra only)
   * @param shadowMs of it, the shadow before the run: plan, sample (Penumbra only)
   * @param lastLatencyMs the latency of the query that finished last
   */
  public record Time(double makespanSeconds, double lastArrivalSeconds, double wallMs, double beforeRunMs,
      double reservationWaitMs, double shadowMs, double lastLatencyMs) {}

  /** Queries sampled, new shapes only planned, and queries on the fast path. */
  public record Shadows(long sampled, long planned, long fastPath) {

    static final Shadows NONE = new Shadows(0, 0, 0);

    static Shadows between(ShadowStats before, ShadowStats after) {
      return new Shadows(after.sampled() - before.sampled(), after.planned() - before.planned(),
          after.reused() - before.reused());
    }
  }

  /** What the sweep needs from the benchmark run. */
  record Setup(QueryGateway gateway, PrimaryEngine fifoEngine, int fifoSlots, PrimaryEngine noneEngine,
      long memoryBudget, int cores, double capacityPerSecond, int queriesPerLevel, long seed) {}

  /**
   * A design variant for comparison: {@code -Dpenumbra.bench.query.priorityMode=true} adds a fourth mode,
   * {@code priority}: the same trained gateway admitting strictly by priority, then arrival (the order before virtual
   * deadlines), at every level beside the others, so both orders meet the same load in the same minute.
   */
  static final boolean PRIORITY_MODE = Boolean.parseBoolean(
      System.getProperty("penumbra.bench.query.priorityMode", "false"));

  private record Arrival(QuerySpec query, Priority priority, long atNanos) {}

  /** One finished query; {@code endNanos} counts from the level's start. */
  private record Done(Priority priority, long latencyNanos, long endNanos, Outcome outcome, Resources held,
      long wallNanos, long peakMemory, long cpuNanos, long reservationWaitNanos, long shadowNanos) {}

  static List<Level> run(Setup s, Workload w, List<Double> loads, Consumer<String> progress) throws Exception {
    List<Level> out = new ArrayList<>();
    Resources slot = Resources.of(Math.max(1000, s.cores() * 1000L / s.fifoSlots()), s.memoryBudget() / s.fifoSlots());
    Resources share = Resources.of(1000, s.memoryBudget() / s.queriesPerLevel());
    // The first mode of the first level runs right after the burst and lost every priority at once there in most
    // runs (2-12x at load 0.25, docs/benchmarks.md): the unscored mode (none) goes first at that level.
    int index = 2;
    for (double load : loads) {
      List<Arrival> arrivals = arrivals(w, load * s.capacityPerSecond(), s.queriesPerLevel(),
          new Random(s.seed() + Math.round(load * 1000)));
      double lastArrival = arrivals.get(arrivals.size() - 1).atNanos() / 1e9;
      int modes = PRIORITY_MODE ? 4 : 3;
      Level[] levels = new Level[modes];
      // The mode that runs first at a level runs after the previous level's last mode (its collector, its engine's
      // leftovers): the order rotates from level to level, as the burst's rounds do, so no mode always goes first.
      for (int k = 0; k < modes; k++) {
        int mode = (index + k) % modes;
        switch (mode) {
          case 0, 3 -> {
            String name = mode == 0 ? "penumbra" : "priority";
            progress.accept(String.format(Locale.ROOT, "sweep: load %.2f (%.2f queries/s, %d queries): %s ...",
                load, load * s.capacityPerSecond(), arrivals.size(), name));
            s.gateway().strictPriority(mode == 3);
            ShadowStats before = s.gateway().shadowStats();
            List<Done> pen;
            try {
              pen = replay(arrivals, arrivals.size(), a -> {
                QueryReport r = s.gateway().submit(new QueryRequest(a.query().sql(), "sweep", Sla.of(a.priority())))
                    .report();
                return new Done(a.priority(), 0, 0, r.outcome(), r.reservation().amount(), r.actual().wallNanos(),
                    r.actual().peakMemoryBytes(), r.actual().cpuNanos(), r.reservation().queueWaitNanos(),
                    r.shadow().wallNanos());
              });
            } finally {
              s.gateway().strictPriority(false);
            }
            // Its samples made after the queries finish now, counted in its share, not during another mode's run.
            s.gateway().awaitSamplesAfter(Duration.ofSeconds(10));
            ShadowStats after = s.gateway().shadowStats();
            long primary = after.primaryNanos() - before.primaryNanos();
            double shadowShare = primary == 0 ? Double.NaN
                : (double) (after.shadowNanos() - before.shadowNanos()) / primary;
            double checkShare = primary == 0 ? Double.NaN
                : (double) (after.checkNanos() - before.checkNanos()) / primary;
            levels[mode] = level(load, name, pen, shadowShare, Shadows.between(before, after), checkShare,
                lastArrival);
          }
          case 1 -> {
            progress.accept(String.format(Locale.ROOT, "sweep: load %.2f: fifo ...", load));
            levels[1] = level(load, "fifo", replay(arrivals, s.fifoSlots(), a -> fixed(s.fifoEngine(), a, slot)), 0,
                Shadows.NONE, 0, lastArrival);
          }
          default -> {
            progress.accept(String.format(Locale.ROOT, "sweep: load %.2f: none ...", load));
            levels[2] = level(load, "none", replay(arrivals, arrivals.size(), a -> fixed(s.noneEngine(), a, share)),
                0, Shadows.NONE, 0, lastArrival);
          }
        }
      }
      out.addAll(List.of(levels));
      index++;
    }
    return out;
  }

  private static List<Arrival> arrivals(Workload w, double ratePerSecond, int n, Random rnd) {
    List<Arrival> out = new ArrayList<>();
    double t = 0;
    for (int i = 0; i < n; i++) {
      QuerySpec q = w.sample(rnd);
      double u = rnd.nextDouble();
      Priority p = u < 0.2 ? Priority.CRITICAL : u < 0.6 ? Priority.STANDARD : Priority.BATCH;
      out.add(new Arrival(q, p, (long) (t * 1e9)));
      t += -Math.log(1 - rnd.nextDouble()) / ratePerSecond;
    }
    return out;
  }

  private interface Run {
    Done apply(Arrival a) throws Exception;
  }

  private static Done fixed(PrimaryEngine engine, Arrival a, Resources each) {
    QueryResult r = engine.execute(a.query().sql(), each, Duration.ofMinutes(5));
    return done(a, r.outcome(), each, r.profile().wallNanos(), r.profile().peakMemoryBytes(), r.profile().cpuNanos());
  }

  private static Done done(Arrival a, Outcome outcome, Resources held, long wall, long peak, long cpu) {
    return new Done(a.priority(), 0, 0, outcome, held, wall, peak, cpu, 0, 0);
  }

  /**
   * Hands each query to {@code workers} workers (in arrival order) at its arrival time; latency is arrival to
   * completion. Bounded by {@link #LEVEL_CAP}.
   */
  private static List<Done> replay(List<Arrival> arrivals, int workers, Run run) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(workers);
    long start = System.nanoTime();
    List<Future<Done>> fs = new ArrayList<>();
    try {
      for (Arrival a : arrivals) {
        long wait = start + a.atNanos() - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
        fs.add(pool.submit(() -> {
          Done d = run.apply(a);
          long end = System.nanoTime() - start;
          return new Done(d.priority(), end - a.atNanos(), end, d.outcome(), d.held(), d.wallNanos(), d.peakMemory(),
              d.cpuNanos(), d.reservationWaitNanos(), d.shadowNanos());
        }));
      }
      long deadline = start + LEVEL_CAP.toNanos();
      List<Done> out = new ArrayList<>();
      for (int i = 0; i < fs.size(); i++) {
        try {
          out.add(fs.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
          Arrival a = arrivals.get(i);
          out.add(new Done(a.priority(), LEVEL_CAP.toNanos() - a.atNanos(), LEVEL_CAP.toNanos(), Outcome.TIMED_OUT,
              Resources.ZERO, 0, 0, 0, 0, 0));
        }
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  private static Level level(double load, String mode, List<Done> done, double shadowShare, Shadows shadows,
      double checkShare, double lastArrivalSeconds) {
    Map<Priority, Pct> lat = new EnumMap<>(Priority.class);
    for (Priority p : Priority.values()) {
      double[] ms = done.stream().filter(d -> d.priority() == p).mapToDouble(d -> d.latencyNanos() / 1e6).toArray();
      if (ms.length > 0) {
        lat.put(p, new Pct(ms.length, Quantiles.of(ms, 0.5), Quantiles.of(ms, 0.95),
            Quantiles.of(ms, 0.99)));
      }
    }
    int ok = (int) done.stream().filter(d -> d.outcome() == Outcome.COMPLETED || d.outcome() == Outcome.SPILLED)
        .count();
    int mem = (int) done.stream().filter(d -> d.outcome() == Outcome.FAILED_MEMORY).count();
    double makespan = Math.max(1, done.stream().mapToLong(Done::endNanos).max().orElse(1)) / 1e9;
    double gib = 1024.0 * 1024 * 1024;
    double resMem = 0;
    double useMem = 0;
    double resCpu = 0;
    double useCpu = 0;
    for (Done d : done) {
      double s = d.wallNanos() / 1e9;
      resMem += d.held().memoryBytes() * s / gib;
      useMem += d.peakMemory() * s / gib;
      resCpu += PrimaryEngine.threadsFor(d.held()) * s;
      useCpu += d.cpuNanos() / 1e9;
    }
    int n = Math.max(1, done.size());
    Done last = done.stream().max(java.util.Comparator.comparingLong(Done::endNanos)).orElse(null);
    Time time = new Time(makespan, lastArrivalSeconds,
        done.stream().mapToLong(Done::wallNanos).sum() / 1e6 / n,
        done.stream().mapToLong(d -> Math.max(0, d.latencyNanos() - d.wallNanos())).sum() / 1e6 / n,
        done.stream().mapToLong(Done::reservationWaitNanos).sum() / 1e6 / n,
        done.stream().mapToLong(Done::shadowNanos).sum() / 1e6 / n,
        last == null ? Double.NaN : last.latencyNanos() / 1e6);
    return new Level(load, mode, lat, ok / makespan, ok, mem, done.size() - ok - mem, resMem, useMem, resCpu, useCpu,
        shadowShare, shadows, checkShare, time);
  }
}
