package dev.penumbra.eval.query;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.loop.LoopStats;
import dev.penumbra.eval.report.Quantiles;
import dev.penumbra.ml.TreePredictor;
import dev.penumbra.query.SqlLexer;
import dev.penumbra.query.QueryGateway;
import dev.penumbra.query.QueryReport;
import dev.penumbra.query.QueryRequest;
import dev.penumbra.query.ShadowStats;
import dev.penumbra.query.engine.DuckDbEngine;
import dev.penumbra.query.engine.LocalPostgres;
import dev.penumbra.query.engine.Outcome;
import dev.penumbra.query.engine.PostgresEngine;
import dev.penumbra.query.engine.PrimaryEngine;
import dev.penumbra.query.engine.QueryResult;
import dev.penumbra.query.predict.QueryPredictor;
import dev.penumbra.query.shadow.PostgresSample;
import dev.penumbra.query.shadow.QueryRejectedException;
import dev.penumbra.query.shadow.SamplingRule;
import dev.penumbra.query.tpch.Tpch;
import dev.penumbra.query.tpch.TpchDatabase;
import dev.penumbra.query.workload.QuerySpec;
import dev.penumbra.query.workload.Workload;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * {@code penumbra bench query}: accuracy of the query predictor, the shadow's overhead and an end-to-end
 * comparison of Penumbra's admission with FIFO fixed slots and no admission control, in one run on the same
 * data. See docs/benchmarks.md, "Query".
 *
 * <p>Over 500 lines: the three parts run on one generated database and one trained predictor, whose set-up and
 * figures they share, and the burst says where each mode's CPU went (per thread group and per gateway stage); the
 * sweep is in {@code QuerySweep}, its plots in {@code QuerySweepHtml}.
 */
public final class QueryBench {
  private QueryBench() {}

  /**
   * What to run.
   *
   * @param scale TPC-H scale factor
   * @param seed data and workload seed
   * @param engine "duckdb" or "postgres" (the primary; the shadow samples the DuckDB file, and with postgres the
   *     per-operator profile comes from PostgreSQL's EXPLAIN ANALYZE of a sample kept in PostgreSQL)
   * @param cacheDir where the DuckDB file is cached
   * @param extraQueries statements the model never trained on (from --queries), tested like held-out templates
   * @param trainRuns training queries (training templates, random parameters)
   * @param testRuns test queries with fresh parameters (training templates and held-out ones, half each)
   * @param e2eQueries queries of the end-to-end burst, per mode
   * @param memoryBudget the end-to-end memory budget shared by all concurrent queries
   * @param fifoSlots FIFO's equal fixed slots
   * @param loads the load sweep's levels, shares of capacity (empty: no sweep)
   * @param sweepQueries queries per level and mode of the sweep
   * @param shapes whether the held-out shapes ({@link #heldOutShapes()}) are tested too
   * @param operatorScaling whether the predictor scales the sample per operator (false: the whole-query design)
   */
  public record Options(double scale, long seed, String engine, Path cacheDir, List<String> extraQueries,
      int trainRuns, int testRuns, int e2eQueries, long memoryBudget, int fifoSlots, List<Double> loads,
      int sweepQueries, boolean shapes, boolean operatorScaling) {
    public Options {
      loads = List.copyOf(loads);
      for (double l : loads) {
        if (!(l > 0 && l <= 10)) {
          throw new IllegalArgumentException("loads must be in (0, 10], was " + l);
        }
      }
      if (sweepQueries < 4) {
        throw new IllegalArgumentException("sweepQueries must be >= 4, was " + sweepQueries);
      }
      if (!(scale > 0)) {
        throw new IllegalArgumentException("scale must be > 0, was " + scale);
      }
      if (!engine.equals("duckdb") && !engine.equals("postgres")) {
        throw new IllegalArgumentException("engine must be duckdb or postgres, was '" + engine + "'");
      }
      extraQueries = List.copyOf(extraQueries);
    }

    /** The default run: SF 1, 80 training and 40 test queries, a burst of 60 under 2 cores and 384 MiB. */
    public static Options defaults(Path cacheDir) {
      return new Options(1.0, 42, "duckdb", cacheDir, List.of(), 80, 40, 60, 384L << 20, 4,
          List.of(0.25, 0.5, 0.75, 1.0, 1.5), 24, true, true);
    }
  }

  /**
   * A design variant for comparison (docs/benchmarks.md): {@code -Dpenumbra.bench.query.blendTime=false} takes a new
   * shape's CPU and wall time from the per-operator estimate alone instead of meeting the model halfway.
   */
  static final boolean BLEND_TIME = Boolean.parseBoolean(System.getProperty("penumbra.bench.query.blendTime", "true"));

  /**
   * A design variant: {@code -Dpenumbra.bench.query.blendMemory=true|false} makes a new shape's memory meet the
   * model halfway or come from the per-operator estimate alone. Unset: as the gateway does, meet it on DuckDB, not on
   * PostgreSQL (profiled on its own sample, while the model's features describe the DuckDB sample).
   */
  static final String BLEND_MEMORY = System.getProperty("penumbra.bench.query.blendMemory", "");

  /**
   * A design variant: {@code -Dpenumbra.bench.query.fetchCost=false} leaves the client's fetch time of the result
   * rows out of the per-operator wall time (the design before it).
   */
  static final boolean FETCH_COST = Boolean.parseBoolean(System.getProperty("penumbra.bench.query.fetchCost", "true"));

  /** Test groups, each scored on its own: what a model may have learned differs between them. */
  public static final String TRAINED = "trained templates";
  public static final String HELD_OUT_TEMPLATES = "held-out templates";
  public static final String HELD_OUT_SHAPES = "held-out shapes";
  public static final String QUERIES = "--queries";

  /**
   * The held-out shapes: analytic statements over TPC-H (top-N, DISTINCT, count(DISTINCT) over joins, semi and
   * anti joins, windows, correlated subqueries, wide string sorts, many groups, LIMIT) that no training template
   * has; the benchmark tests them and never trains on them.
   */
  public static List<String> heldOutShapes() {
    try (var in = QueryBench.class.getResourceAsStream("held-out-shapes.sql")) {
      if (in == null) {
        throw new IllegalStateException("resource held-out-shapes.sql is missing from the classpath");
      }
      return SqlLexer.statements(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * One test query: predicted (before it ran, model frozen) vs actual; {@code group} is one of {@link #TRAINED},
   * {@link #HELD_OUT_TEMPLATES}, {@link #HELD_OUT_SHAPES}, {@link #QUERIES}; the p90/p99 are the prediction's
   * quantiles (standard reservations are sized at p90, critical ones at p99).
   */
  public record QueryRow(String source, String group, boolean heldOut, String sql, String tier, String outcome,
      long predictedMemoryBytes, long actualMemoryBytes, long predictedCpuNanos, long actualCpuNanos,
      long predictedWallNanos, long actualWallNanos, long shadowWallNanos, boolean shadowSkipped, int threads,
      long predictedMemoryP90, long predictedMemoryP99, long predictedWallP90, long predictedWallP99) {}

  /**
   * q-error median and p90 over the test queries, and how often the prediction's quantile covered the actual
   * (memory is what a reservation holds strictly: {@code memoryCoverP99} is the share of runs a critical
   * reservation would have covered).
   */
  public record Accuracy(int queries, double memoryMedian, double memoryP90, double wallMedian, double wallP90,
      double cpuMedian, double cpuP90, double memoryCoverP90, double memoryCoverP99, double wallCoverP90,
      double wallCoverP99) {}

  /** Latency percentiles of one priority class, milliseconds. */
  public record Latency(int queries, double p50Millis, double p95Millis) {}

  /** One admission mode of the end-to-end run. */
  public record Mode(String name, Map<Priority, Latency> latency, double throughputPerSecond, double makespanSeconds,
      int completed, int spilled, int failedMemory, int otherFailures, Use use) {}

  /**
   * Where a mode's time and CPU went. A burst's throughput is set by how many queries execute at once and by what
   * else takes the cores meanwhile, so these show why one mode outruns another.
   *
   * @param meanRunning queries executing at once, on average (their execution time over the makespan)
   * @param meanThreads threads per query
   * @param meanWaitMillis time a query waited for its reservation, mean
   * @param meanPathMillis time a query spent before its reservation (sandbox check, shadow, prediction, and the
   *     wait for a turn at them), mean; 0 for the modes without that path
   * @param processCpuMillis the whole process's CPU time during the mode per query (every thread, the engine's
   *     native ones, the garbage collector): what the mode costs the node, not just the queries
   * @param engineCpuMillis the engine's own CPU time per query (DuckDB's {@code query.cpu_time}: its operators, on
   *     every thread it ran)
   * @param queryThreadCpuMillis CPU time per query of the thread that submitted it (its path, the engine's per-query
   *     set-up and check, its operators when it runs on one thread, the learn step)
   * @param gcMillis the collectors' CPU time during the mode per query
   * @param jitMillis the JIT compilers' CPU time during the mode per query
   * @param engineThreadsCpuMillis CPU time of the DuckDB engine's own query threads during the mode per query (where
   *     the primary runs its queries; -1 without /proc)
   * @param stages the submitting thread's CPU per query and stage of the gateway (Penumbra only: {@code
   *     QueryGateway.cpu()}; null for the other modes)
   */
  public record Use(double meanRunning, double meanThreads, double meanWaitMillis, double meanPathMillis,
      double processCpuMillis, double engineCpuMillis, double queryThreadCpuMillis, double gcMillis,
      double jitMillis, double engineThreadsCpuMillis, Stages stages) {}

  /** CPU time of the submitting thread per query, ms, in each stage of the gateway (see {@code GatewayCpu}). */
  public record Stages(double path, double reserve, double execute, double learn) {
    static Stages of(dev.penumbra.query.GatewayCpu c) {
      double n = Math.max(1, c.queries());
      return new Stages(c.pathNanos() / n / 1e6, c.reserveNanos() / n / 1e6, c.executeNanos() / n / 1e6,
          c.learnNanos() / n / 1e6);
    }
  }

  private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory
      .getThreadMXBean();

  /** CPU time of the calling thread so far, ns. */
  static long threadCpuNanos() {
    return Math.max(0, THREADS.getCurrentThreadCpuTime());
  }

  /**
   * CPU time of the JVM's own threads whose name starts with one of {@code prefixes}, ms, read from {@code
   * /proc/self/task} (the collectors' and compilers' threads live as long as the JVM, so none is lost by exiting);
   * -1 where there is no /proc.
   */
  static long jvmThreadsCpuMillis(String... prefixes) {
    java.nio.file.Path tasks = java.nio.file.Path.of("/proc/self/task");
    if (!java.nio.file.Files.isDirectory(tasks)) {
      return -1;
    }
    long ticks = 0;
    try (var dirs = java.nio.file.Files.list(tasks)) {
      for (java.nio.file.Path d : (Iterable<java.nio.file.Path>) dirs::iterator) {
        String stat;
        try {
          stat = java.nio.file.Files.readString(d.resolve("stat"));
        } catch (java.io.IOException e) {
          continue; // the thread ended meanwhile
        }
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        String name = stat.substring(open + 1, close);
        if (Arrays.stream(prefixes).noneMatch(name::startsWith)) {
          continue;
        }
        String[] f = stat.substring(close + 2).split(" ");
        ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
      }
    } catch (java.io.IOException | RuntimeException e) {
      return -1;
    }
    return ticks * 10; // USER_HZ is 100 on Linux
  }

  /** The collectors' CPU time so far, ms (their accumulated pause time where there is no /proc). */
  static long gcMillis() {
    long cpu = jvmThreadsCpuMillis("GC Thread", "G1 ");
    return cpu >= 0 ? cpu : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
        .mapToLong(b -> Math.max(0, b.getCollectionTime())).sum();
  }

  /** The JIT compilers' CPU time so far, ms (their accumulated compilation time where there is no /proc). */
  static long jitMillis() {
    long cpu = jvmThreadsCpuMillis("C1 CompilerThre", "C2 CompilerThre");
    if (cpu >= 0) {
      return cpu;
    }
    var c = java.lang.management.ManagementFactory.getCompilationMXBean();
    return c != null && c.isCompilationTimeMonitoringSupported() ? c.getTotalCompilationTime() : 0;
  }

  /** CPU time of this process so far (every thread, DuckDB's native ones included), ns; 0 where unavailable. */
  static long processCpuNanos() {
    var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean s ? Math.max(0, s.getProcessCpuTime()) : 0;
  }

  /**
   * Shadow time / primary time per test query, median: over all test queries (a skipped sample run counts as
   * what the shadow cost, its plan) and over those whose sample ran.
   */
  public record Overhead(double allMedian, int all, double shadowedMedian, int shadowed) {}

  /**
   * Everything one run measured.
   *
   * @param shadow the gateway's shadow cost in service (the burst and the sweep; training and the accuracy test
   *     sample every unsettled query) against its budget
   * @param loop the gateway's control loop at the end: reserved vs used resource-time, the baseline guard
   * @param capacityPerSecond the sweep's capacity: FIFO's throughput in the burst (without a burst: cores / mean
   *     primary time of the training queries)
   * @param sweep the load sweep, per level and mode (empty without one)
   */
  public record Result(Options options, List<QueryRow> queries, Accuracy accuracy,
      Map<String, Accuracy> accuracyByGroup, Overhead shadowOverhead,
      List<Mode> endToEnd, double seconds, ShadowStats shadow, LoopStats loop, double capacityPerSecond,
      List<QuerySweep.Level> sweep) {}

  /** Writes the load sweep's plots as a self-contained HTML page. */
  public static void writeHtml(Result r, Path file) throws java.io.IOException {
    try (java.io.Writer w = java.nio.file.Files.newBufferedWriter(file, java.nio.charset.StandardCharsets.UTF_8)) {
      QuerySweepHtml.write(r, w);
    }
  }

  public static Result run(Options o, Consumer<String> progress) throws Exception {
    long t0 = System.nanoTime();
    Path file = QueryGateway.databaseFile(o.cacheDir(), o.scale(), o.seed());
    if (!file.toFile().exists()) {
      progress.accept(String.format(Locale.ROOT, "generating TPC-H SF %s into %s (SF 1: about 30 s) ...",
          fmt(o.scale()), file));
    }
    TpchDatabase db = TpchDatabase.duckdb(file, o.scale(), o.seed());
    int cores = Runtime.getRuntime().availableProcessors();
    LocalPostgres pg = null;
    PostgresSample pgSample = null;
    try {
      IntFunction<PrimaryEngine> engines;
      if (o.engine().equals("postgres")) {
        Path bin = LocalPostgres.findBinaries().orElseThrow(() -> new IllegalStateException(
            "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin: apt-get install postgresql"));
        progress.accept("starting PostgreSQL and loading TPC-H SF " + fmt(o.scale()) + " ...");
        pg = LocalPostgres.start(bin);
        try (Connection c = pg.connect()) {
          Tpch.loadPostgres(c, o.scale(), o.seed());
        }
        String url = pg.jdbcUrl();
        engines = n -> uncheck(() -> PostgresEngine.open(url, n, 20));
        // The per-operator rule profiles the PostgreSQL primary's own sample (EXPLAIN ANALYZE), at the fraction the
        // DuckDB shadow samples with.
        progress.accept("sampling PostgreSQL into its own schema ...");
        pgSample = PostgresSample.open(url, o.scale() >= 1 ? 0.01 : 0.1, SamplingRule.tpch(), 2);
      } else {
        engines = n -> uncheck(() -> DuckDbEngine.open(db.file(), n, 20));
      }
      Workload w = Workload.tpch(o.scale());
      Random rnd = new Random(o.seed());

      // Validate the extra queries first: a bad statement stops the run before any measuring.
      TreePredictor model = TreePredictor.builder().name("query-model").minSamples(30).seed(o.seed()).build();
      ErrorTracker errors = new ErrorTracker();
      QueryGateway.Builder gb = QueryGateway.builder().database(db)
          .node("local", Resources.of(cores * 1000L, o.memoryBudget())).engineInstances(8).maxRows(20);
      if (pgSample != null) {
        gb.operatorProfiler(pgSample);
      }
      try (QueryPredictor predictor = QueryPredictor.builder().cores(cores).model(model).errorTracker(errors)
              .operatorScaling(o.operatorScaling()).blendTime(BLEND_TIME)
              .blendMemory(BLEND_MEMORY.isEmpty() ? pgSample == null : Boolean.parseBoolean(BLEND_MEMORY))
              .fetchCost(FETCH_COST).build();
          PrimaryEngine primary = engines.apply(8);
          QueryGateway gw = overcommit(gb.primary(primary).predictor(predictor)).build()) {
        gw.learning(false);
        List<String> shapes = o.shapes() ? heldOutShapes() : List.of();
        for (int i = 0; i < o.extraQueries().size(); i++) {
          try {
            gw.submit(new QueryRequest(o.extraQueries().get(i), "bench", Sla.of(Priority.STANDARD)));
          } catch (QueryRejectedException | IllegalArgumentException e) {
            throw new IllegalArgumentException("--queries statement " + (i + 1) + ": " + e.getMessage(), e);
          }
        }
        gw.learning(true);
        // Training stands for a gateway that has been serving a while: every unsettled query is sampled so the
        // model fits; what the shadows cost in service is measured from the burst on.
        gw.shadowAlways(true);
        progress.accept("training on " + o.trainRuns() + " queries of " + w.trainingTemplates().size()
            + " training templates ...");
        double trainWall = 0;
        for (int i = 0; i < o.trainRuns(); i++) {
          QuerySpec q = w.sample(rnd);
          trainWall += gw.submit(new QueryRequest(q.sql(), "train", Sla.of(Priority.STANDARD))).report().actual()
              .wallNanos() / 1e9;
          if ((i + 1) % 20 == 0) {
            progress.accept("  trained " + (i + 1) + "/" + o.trainRuns());
          }
        }
        if (model.historySize() >= 30) {
          model.retrainNow();
        }
        gw.learning(false);
        // The accuracy test measures the predictor on sampled runs: every unsettled test query is sampled, as
        // if the budget allowed it (held-out shapes are new, and past the budget the gate would size them as
        // the baseline instead). The gate goes back to its budget for the burst and the sweep.
        gw.shadowAlways(true);
        progress.accept("testing on " + o.testRuns() + " fresh queries (+ " + shapes.size() + " held-out shapes, "
            + o.extraQueries().size() + " from --queries), model frozen ...");
        List<QueryRow> rows = new ArrayList<>();
        for (int i = 0; i < o.testRuns(); i++) {
          QuerySpec q = i % 2 == 0 ? w.sample(rnd) : w.sampleHeldOut(rnd);
          rows.add(row(q.template(), q.heldOut() ? HELD_OUT_TEMPLATES : TRAINED, q.heldOut(), q.sql(), gw));
        }
        for (int i = 0; i < shapes.size(); i++) {
          rows.add(row("shapes#" + (i + 1), HELD_OUT_SHAPES, true, shapes.get(i), gw));
          if ((i + 1) % 10 == 0) {
            progress.accept("  tested " + (i + 1) + "/" + shapes.size() + " held-out shapes");
          }
        }
        for (int i = 0; i < o.extraQueries().size(); i++) {
          rows.add(row("queries#" + (i + 1), QUERIES, true, o.extraQueries().get(i), gw));
        }
        Accuracy acc = accuracy(rows);
        Map<String, Accuracy> byGroup = new java.util.LinkedHashMap<>();
        for (String g : List.of(TRAINED, HELD_OUT_TEMPLATES, HELD_OUT_SHAPES, QUERIES)) {
          List<QueryRow> in = rows.stream().filter(r -> r.group().equals(g)).toList();
          if (!in.isEmpty()) {
            byGroup.put(g, accuracy(in));
          }
        }
        Overhead overhead = overhead(rows);
        gw.shadowAlways(false);
        gw.learning(true);
        ShadowStats inService = gw.shadowStats();

        // End to end: the same burst of queries under each admission mode.
        List<QuerySpec> burst = new ArrayList<>();
        List<Priority> prio = new ArrayList<>();
        Random br = new Random(o.seed() + 1);
        for (int i = 0; i < o.e2eQueries(); i++) {
          burst.add(w.sample(br));
          double u = br.nextDouble();
          prio.add(u < 0.2 ? Priority.CRITICAL : u < 0.6 ? Priority.STANDARD : Priority.BATCH);
        }
        List<Mode> modes = new ArrayList<>();
        progress.accept("end to end: " + o.e2eQueries() + " queries at once, " + cores + " cores, "
            + Resources.formatBytes(o.memoryBudget()) + "; Penumbra ...");
        // Each mode runs the burst BURST_ROUNDS times, the order rotated every round; the first round warms up and the
        // others are pooled. The first burst after training ran slower whichever mode it was (FIFO first: 25-28
        // queries/s, second: 31-33), and the JIT compiler was still busy with Penumbra's path in its second round
        // (150 methods, 0.6 s of CPU in a 3 s round): a fixed order and no warm-up charged both to Penumbra, where a
        // gateway in service has long compiled its path.
        try (PrimaryEngine fifoEngine = engines.apply(o.fifoSlots());
            PrimaryEngine noneEngine = engines.apply(o.e2eQueries())) {
          Resources slot = Resources.of(Math.max(1000, cores * 1000L / o.fifoSlots()), o.memoryBudget() / o.fifoSlots());
          Resources share = Resources.of(1000, o.memoryBudget() / o.e2eQueries());
          List<String> order = List.of("penumbra", "fifo", "none");
          Map<String, List<Round>> rounds = new java.util.LinkedHashMap<>();
          order.forEach(m -> rounds.put(m, new ArrayList<>()));
          for (int round = 0; round < BURST_ROUNDS; round++) {
            for (int k = 0; k < order.size(); k++) {
              String m = order.get((k + round) % order.size());
              progress.accept("end to end, round " + (round + 1) + "/" + BURST_ROUNDS + ": " + switch (m) {
                case "penumbra" -> "Penumbra";
                case "fifo" -> "FIFO with " + o.fifoSlots() + " equal slots";
                default -> "no admission control (all at once, even shares)";
              } + " ...");
              rounds.get(m).add(switch (m) {
                case "penumbra" -> penumbra(gw, burst, prio);
                case "fifo" -> fixed(fifoEngine, burst, prio, o.fifoSlots(), slot);
                default -> fixed(noneEngine, burst, prio, o.e2eQueries(), share);
              });
            }
          }
          rounds.forEach((m, r) -> modes.add(mode(m, r.subList(WARMUP_ROUNDS, r.size()))));
        }
        // The rate the node sustains: FIFO's throughput in the burst, where its slots were never idle. The training
        // queries ran one at a time with every free core, so cores / their mean time counts a second thread as a
        // second query's worth and put the node's capacity at 2.4x what it delivered (106 against 45 queries/s on
        // an idle machine): every level from 0.5 up was overload.
        double capacity = modes.stream().filter(m -> m.name().equals("fifo") && m.throughputPerSecond() > 0)
            .mapToDouble(Mode::throughputPerSecond).findFirst()
            .orElse(cores / Math.max(1e-3, trainWall / o.trainRuns()));
        List<QuerySweep.Level> sweep = List.of();
        if (!o.loads().isEmpty()) {
          try (PrimaryEngine fifo = engines.apply(o.fifoSlots());
              PrimaryEngine none = engines.apply(o.sweepQueries())) {
            sweep = QuerySweep.run(new QuerySweep.Setup(gw, fifo, o.fifoSlots(), none, o.memoryBudget(), cores,
                capacity, o.sweepQueries(), o.seed()), w, o.loads(), progress);
          }
        }
        return new Result(o, rows, acc, byGroup, overhead, modes, (System.nanoTime() - t0) / 1e9,
            since(inService, gw.shadowStats()),
            gw.loopStats(), capacity, sweep);
      }
    } finally {
      if (pgSample != null) {
        pgSample.close();
      }
      if (pg != null) {
        pg.close();
      }
    }
  }

  private static QueryRow row(String source, String group, boolean heldOut, String sql, QueryGateway gw) {
    QueryReport r = gw.submit(new QueryRequest(sql, "test", Sla.of(Priority.STANDARD))).report();
    var p = r.prediction();
    return new QueryRow(source, group, heldOut, sql, r.prediction().tier().name().toLowerCase(Locale.ROOT),
        r.outcome().name().toLowerCase(Locale.ROOT),
        r.prediction().memoryBytes().point(), r.actual().peakMemoryBytes(),
        r.prediction().cpuNanos().point(), r.actual().cpuNanos(),
        r.prediction().wallNanos().point(), r.actual().wallNanos(), r.shadow().wallNanos(),
        r.shadow().skipped().isPresent(), PrimaryEngine.threadsFor(r.reservation().amount()),
        p.memoryBytes().at(0.9), p.memoryBytes().at(0.99), p.wallNanos().at(0.9), p.wallNanos().at(0.99));
  }

  /**
   * Design variants, to compare: {@code -Dpenumbra.bench.query.cpuOvercommit=X} runs Penumbra with another CPU
   * overcommit than the gateway's default (how many threads the ledger may promise per core);
   * {@code -Dpenumbra.bench.query.pathConcurrency=N} lets N queries run their shadow-and-predict path at once
   * (default: one per core; a number as large as the burst is the design without the bound);
   * {@code -Dpenumbra.bench.query.cpuPerThreadMs=N} gives a query one more thread per N ms of predicted CPU (default
   * 250; a large N runs every query on one thread, as FIFO's slots do).
   */
  private static QueryGateway.Builder overcommit(QueryGateway.Builder b) {
    String x = System.getProperty("penumbra.bench.query.cpuOvercommit");
    if (x != null) {
      try {
        b.cpuOvercommit(Double.parseDouble(x));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("penumbra.bench.query.cpuOvercommit must be a number, was '" + x + "'", e);
      }
    }
    String n = System.getProperty("penumbra.bench.query.pathConcurrency");
    if (n != null) {
      try {
        b.pathConcurrency(Integer.parseInt(n.strip()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("penumbra.bench.query.pathConcurrency must be a whole number, was '" + n
            + "'", e);
      }
    }
    String t = System.getProperty("penumbra.bench.query.cpuPerThreadMs");
    if (t != null) {
      try {
        b.cpuPerThread(java.time.Duration.ofMillis(Long.parseLong(t.strip())));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("penumbra.bench.query.cpuPerThreadMs must be a whole number, was '" + t
            + "'", e);
      }
    }
    return b;
  }

  /** What the shadows cost between two readings of the gateway's totals. */
  private static ShadowStats since(ShadowStats a, ShadowStats b) {
    return new ShadowStats(b.budget(), b.shadowNanos() - a.shadowNanos(), b.primaryNanos() - a.primaryNanos(),
        b.sampled() - a.sampled(), b.cutOff() - a.cutOff(), b.planned() - a.planned(), b.reused() - a.reused(),
        b.checkNanos() - a.checkNanos());
  }

  static Overhead overhead(List<QueryRow> rows) {
    double[] all = rows.stream().mapToDouble(r -> (double) r.shadowWallNanos() / Math.max(1, r.actualWallNanos()))
        .toArray();
    double[] shadowed = rows.stream().filter(r -> !r.shadowSkipped())
        .mapToDouble(r -> (double) r.shadowWallNanos() / Math.max(1, r.actualWallNanos())).toArray();
    return new Overhead(median(all), all.length, median(shadowed), shadowed.length);
  }

  static Accuracy accuracy(List<QueryRow> rows) {
    List<QueryRow> ok = rows.stream().filter(r -> r.outcome().equals("completed") || r.outcome().equals("spilled"))
        .toList();
    double[] mem = ok.stream().mapToDouble(r -> memoryQError(r.predictedMemoryBytes(), r.actualMemoryBytes()))
        .toArray();
    double[] wall = ok.stream().mapToDouble(r -> ErrorTracker.qError(r.predictedWallNanos(), r.actualWallNanos()))
        .toArray();
    double[] cpu = ok.stream().mapToDouble(r -> ErrorTracker.qError(r.predictedCpuNanos(), r.actualCpuNanos()))
        .toArray();
    return new Accuracy(ok.size(), median(mem), Quantiles.of(mem, 0.9), median(wall), Quantiles.of(wall, 0.9),
        median(cpu), Quantiles.of(cpu, 0.9),
        share(ok, r -> r.actualMemoryBytes() <= r.predictedMemoryP90()),
        share(ok, r -> r.actualMemoryBytes() <= r.predictedMemoryP99()),
        share(ok, r -> r.actualWallNanos() <= r.predictedWallP90()),
        share(ok, r -> r.actualWallNanos() <= r.predictedWallP99()));
  }

  /**
   * Memory amounts below this count as this much when scored: the predictor never names less (its minimum), and
   * PostgreSQL measures 0 bytes for a query without a sort or hash (its memory is work_mem nodes only), where any
   * ratio would be meaningless.
   */
  static final long MEMORY_FLOOR_BYTES = 1L << 20;

  static double memoryQError(long predicted, long actual) {
    return ErrorTracker.qError(Math.max(MEMORY_FLOOR_BYTES, predicted), Math.max(MEMORY_FLOOR_BYTES, actual));
  }

  private static double share(List<QueryRow> rows, java.util.function.Predicate<QueryRow> covered) {
    return rows.isEmpty() ? Double.NaN : (double) rows.stream().filter(covered).count() / rows.size();
  }

  private record Done(Priority priority, long latencyNanos, Outcome outcome, long execNanos, int threads,
      long waitNanos, long pathNanos, long engineCpuNanos, long threadCpuNanos) {}

  /** Rounds of the burst per mode, the first a warm-up (see where the modes run). */
  static final int BURST_ROUNDS = 2 + warmupRounds();

  /** Rounds per mode that warm up before the two pooled ones. */
  static final int WARMUP_ROUNDS = BURST_ROUNDS - 2;

  /**
   * A design variant of the bench: {@code -Dpenumbra.bench.query.warmupRounds=N} (default 1) warms up N rounds per
   * mode before the two that are pooled, e.g. to see what the JIT compiler still costs in the measured rounds.
   */
  private static int warmupRounds() {
    String n = System.getProperty("penumbra.bench.query.warmupRounds", "1");
    try {
      int v = Integer.parseInt(n.strip());
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("penumbra.bench.query.warmupRounds must be a whole number >= 0, was '" + n
          + "'", e);
    }
  }

  /**
   * One mode's run of the burst: every query's record, the makespan, and the process's CPU time, the collectors' and
   * the compilers' time over it.
   */
  private record Round(List<Done> done, double makespanSeconds, long cpuNanos, long gcMillis, long jitMillis,
      long engineMillis, dev.penumbra.query.GatewayCpu stages) {}

  /** The process's counters when a round starts. */
  private record Start(long nanos, long cpuNanos, long gcMillis, long jitMillis, long engineMillis) {
    static Start now() {
      return new Start(System.nanoTime(), processCpuNanos(), QueryBench.gcMillis(), QueryBench.jitMillis(),
          jvmThreadsCpuMillis("duckdb-query-"));
    }
  }

  private static Round penumbra(QueryGateway gw, List<QuerySpec> burst, List<Priority> prio) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(burst.size());
    try {
      Start s = Start.now();
      dev.penumbra.query.GatewayCpu before = gw.cpu();
      long start = s.nanos();
      List<Future<Done>> fs = new ArrayList<>();
      for (int i = 0; i < burst.size(); i++) {
        String sql = burst.get(i).sql();
        Priority p = prio.get(i);
        fs.add(pool.submit(() -> {
          long t0 = System.nanoTime();
          long c0 = threadCpuNanos();
          QueryReport r = gw.submit(new QueryRequest(sql, "e2e", Sla.of(p))).report();
          long c1 = threadCpuNanos();
          long t1 = System.nanoTime();
          long exec = r.actual().wallNanos();
          long wait = r.reservation().queueWaitNanos();
          // The path is what is left of the query's time past its wait and its run: everything before the
          // reservation, and the engine's own per-query set-up on both sides of the run.
          return new Done(p, t1 - start, r.outcome(), exec, PrimaryEngine.threadsFor(r.reservation().amount()), wait,
              Math.max(0, t1 - t0 - exec - wait), r.actual().cpuNanos(), c1 - c0);
        }));
      }
      for (Future<Done> f : fs) {
        f.get();
      }
      // Samples made after their queries (at the round's tail, once the gateway is idle) finish within the round:
      // their CPU is Penumbra's, and they must not run beside the next mode's queries.
      gw.awaitSamplesAfter(java.time.Duration.ofSeconds(10));
      Round r = round(fs, s);
      return new Round(r.done(), r.makespanSeconds(), r.cpuNanos(), r.gcMillis(), r.jitMillis(), r.engineMillis(),
          gw.cpu().since(before));
    } finally {
      pool.shutdownNow();
    }
  }

  /** Runs the burst on {@code workers} workers taking queries in arrival order, each with a fixed amount. */
  private static Round fixed(PrimaryEngine engine, List<QuerySpec> burst, List<Priority> prio,
      int workers, Resources each) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(workers);
    try {
      Start s = Start.now();
      long start = s.nanos();
      List<Future<Done>> fs = new ArrayList<>();
      for (int i = 0; i < burst.size(); i++) {
        String sql = burst.get(i).sql();
        Priority p = prio.get(i);
        fs.add(pool.submit(() -> {
          long c0 = threadCpuNanos();
          QueryResult r = engine.execute(sql, each, Duration.ofMinutes(5));
          long c1 = threadCpuNanos();
          return new Done(p, System.nanoTime() - start, r.outcome(), r.profile().wallNanos(),
              PrimaryEngine.threadsFor(each), 0, 0, r.profile().cpuNanos(), c1 - c0);
        }));
      }
      return round(fs, s);
    } finally {
      pool.shutdownNow();
    }
  }

  private static Round round(List<Future<Done>> fs, Start s) throws Exception {
    List<Done> done = new ArrayList<>();
    for (Future<Done> f : fs) {
      done.add(f.get());
    }
    return new Round(done, (System.nanoTime() - s.nanos()) / 1e9, processCpuNanos() - s.cpuNanos(),
        gcMillis() - s.gcMillis(), jitMillis() - s.jitMillis(),
        s.engineMillis() < 0 ? -1 : jvmThreadsCpuMillis("duckdb-query-") - s.engineMillis(), null);
  }

  /** A mode's rounds pooled: latencies over all of them, throughput as every query over the summed makespans. */
  private static Mode mode(String name, List<Round> rounds) {
    List<Done> done = rounds.stream().flatMap(r -> r.done().stream()).toList();
    long cpu = rounds.stream().mapToLong(Round::cpuNanos).sum();
    double makespan = rounds.stream().mapToDouble(Round::makespanSeconds).sum();
    Map<Priority, Latency> lat = new EnumMap<>(Priority.class);
    for (Priority p : Priority.values()) {
      double[] ms = done.stream().filter(d -> d.priority() == p).mapToDouble(d -> d.latencyNanos() / 1e6).toArray();
      if (ms.length > 0) {
        lat.put(p, new Latency(ms.length, median(ms), Quantiles.of(ms, 0.95)));
      }
    }
    int completed = (int) done.stream().filter(d -> d.outcome() == Outcome.COMPLETED).count();
    int spilled = (int) done.stream().filter(d -> d.outcome() == Outcome.SPILLED).count();
    int failedMemory = (int) done.stream().filter(d -> d.outcome() == Outcome.FAILED_MEMORY).count();
    int other = done.size() - completed - spilled - failedMemory;
    double ok = completed + spilled;
    double n = done.size();
    Use use = new Use(done.stream().mapToLong(Done::execNanos).sum() / 1e9 / makespan,
        done.stream().mapToInt(Done::threads).sum() / n, done.stream().mapToLong(Done::waitNanos).sum() / n / 1e6,
        done.stream().mapToLong(Done::pathNanos).sum() / n / 1e6, cpu / n / 1e6,
        done.stream().mapToLong(Done::engineCpuNanos).sum() / n / 1e6,
        done.stream().mapToLong(Done::threadCpuNanos).sum() / n / 1e6,
        rounds.stream().mapToLong(Round::gcMillis).sum() / n, rounds.stream().mapToLong(Round::jitMillis).sum() / n,
        rounds.stream().mapToLong(Round::engineMillis).sum() / n,
        rounds.get(0).stages() == null ? null : Stages.of(rounds.stream().map(Round::stages)
            .reduce(new dev.penumbra.query.GatewayCpu(0, 0, 0, 0, 0), QueryBench::plus)));
    return new Mode(name, lat, ok / makespan, makespan, completed, spilled, failedMemory, other, use);
  }

  private static dev.penumbra.query.GatewayCpu plus(dev.penumbra.query.GatewayCpu a,
      dev.penumbra.query.GatewayCpu b) {
    return new dev.penumbra.query.GatewayCpu(a.queries() + b.queries(), a.pathNanos() + b.pathNanos(),
        a.reserveNanos() + b.reserveNanos(), a.executeNanos() + b.executeNanos(), a.learnNanos() + b.learnNanos());
  }

  static double median(double[] v) {
    return Quantiles.of(v, 0.5);
  }

  /** Linear-interpolated quantile (NaN when empty). */
  private static String fmt(double scale) {
    return java.math.BigDecimal.valueOf(scale).stripTrailingZeros().toPlainString();
  }

  private interface Io<T> {
    T get() throws Exception;
  }

  private static <T> T uncheck(Io<T> f) {
    try {
      return f.get();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }
}
