package dev.penumbra.query.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import dev.penumbra.core.Checks;
import dev.penumbra.query.QueryProfile;
import dev.penumbra.query.engine.DuckDbSandbox;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Shadow Query Engine: keeps sampled replicas of the primary DuckDB database fresh and, for each query,
 * plans it on the primary and runs it on a sample with profiling. Thread-safe; {@link #close()} stops the
 * replicator and drops the replicas.
 *
 * <pre>{@code
 * try (ShadowEngine sqe = ShadowEngine.builder(() -> primary.duplicate()).build()) {
 *   ShadowResult r = sqe.shadow("SELECT count(*) FROM lineitem WHERE l_quantity < 10");
 * }
 * }</pre>
 *
 * <p>Over 500 lines: planning, the sandbox check, sample runs on replicas with their cost cap, plan reuse and the
 * slot pool that bounds concurrent shadows share the slots' lifecycle; the parts stand in {@link Plans},
 * {@link SamplingRule}, {@link Replica} and {@link DuckDbProfiler}.
 */
public final class ShadowEngine implements ShadowSite, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ShadowEngine.class);
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** Planner connections kept for the fast path's check (each a DuckDB connection with its parser prepared). */
  private static final int CHECKERS = 4;

  private final ConnectionSource primary;
  private final ConnectionSource planner;
  private final SamplingRule rule;
  private final List<Replica> replicas = new ArrayList<>();
  private final double defaultFraction;
  /** One per concurrent shadow: connections kept open across shadows (opening and configuring them costs ms). */
  private final BlockingQueue<Slot> slots;
  /**
   * Planner connections for the fast path's parser check alone: apart from the shadow slots, so a query that needs
   * no shadow does not wait behind sample runs for one (in a burst, the two slots held by samples made every other
   * query queue just to be parsed).
   */
  private final BlockingQueue<Slot> checkers = new ArrayBlockingQueue<>(CHECKERS, true);
  private final long timeoutNanos;
  private final ScheduledExecutorService timers;
  private final Object refreshLock = new Object();
  /** The replicator's base poll interval (see {@link #poll}). */
  private final long pollMillis;
  private final java.util.concurrent.atomic.LongAdder checkNanos = new java.util.concurrent.atomic.LongAdder();
  private final OperatorProfiler profiler;
  private volatile boolean closed;

  private ShadowEngine(Builder b) throws SQLException {
    this.primary = b.primary;
    this.planner = b.planner != null ? b.planner : b.primary;
    this.rule = b.rule;
    this.defaultFraction = b.fractions.get(0);
    this.slots = new ArrayBlockingQueue<>(b.maxConcurrent, true);
    for (int i = 0; i < CHECKERS; i++) {
      checkers.add(new Slot());
    }
    for (int i = 0; i < b.maxConcurrent; i++) {
      slots.add(new Slot());
    }
    this.timeoutNanos = b.timeout.toNanos();
    this.profiler = b.profiler;
    this.timers = Executors.newScheduledThreadPool(1, r -> {
      Thread t = new Thread(r, "penumbra-shadow-timer");
      t.setDaemon(true);
      return t;
    });
    try (Connection c = primary.open()) {
      for (double f : b.fractions) {
        Replica r = new Replica(f, rule, b.replicaThreads, b.replicaMemoryLimit, b.tempDir);
        replicas.add(r);
        r.load(c);
        if (b.lockReplicas) {
          r.lock();
        }
      }
    } catch (SQLException | RuntimeException e) {
      close();
      throw e;
    }
    this.pollMillis = Math.max(1, b.pollInterval.toMillis());
    if (!b.pollInterval.isZero()) {
      poll(pollMillis);
    }
  }

  public static Builder builder(ConnectionSource primary) {
    return new Builder(primary);
  }

  /** The replicas' sampling fractions, in the configured order (the first is the default). */
  public List<Double> fractions() {
    return replicas.stream().map(Replica::fraction).toList();
  }

  /** A read connection to the replica of {@code fraction}, e.g. to inspect the sample; the caller closes it. */
  public Connection replicaConnection(double fraction) throws SQLException {
    return replicas.stream().filter(r -> r.fraction() == fraction).findFirst()
        .orElseThrow(() -> new IllegalArgumentException(
            "fraction " + fraction + " is not one of the replicas' fractions " + fractions()))
        .connect();
  }

  /**
   * Elapsed time of every sandbox check so far (DuckDB's parser on each query, on every path including the fast
   * path): the cost of admitting client SQL safely, apart from the shadows' own plans and sample runs.
   */
  public long checkNanos() {
    return checkNanos.sum();
  }

  public SamplingRule rule() {
    return rule;
  }

  /** Shadows {@code sql} on the default (first) replica. */
  public ShadowResult shadow(String sql) {
    return shadow(sql, defaultFraction);
  }

  /**
   * Plans {@code sql} on the primary and runs it on the replica of {@code fraction}, measuring both.
   *
   * @throws QueryRejectedException when the query is not a single read statement (DuckDB's parser decides, see
   *     {@link DuckDbSandbox#check}) or the engine rejects it
   * @throws IllegalArgumentException when no replica has that fraction, or sql is blank
   */
  public ShadowResult shadow(String sql, double fraction) {
    return shadow(sql, fraction, timeoutNanos);
  }

  /**
   * Shadows {@code sql} on the default replica with the sample run cut off at {@code cap} (at most the engine's
   * timeout): a caller that knows what the shadow may cost, e.g. a share of the query's predicted time.
   *
   * @throws IllegalArgumentException when cap is not positive
   */
  @Override
  public ShadowResult shadow(String sql, Duration cap) {
    Checks.positive("cap", cap);
    return shadow(sql, defaultFraction, Math.min(timeoutNanos, cap.toNanos()));
  }

  /**
   * {@link #shadow(String, Duration)}, the sample run also cut off as soon as {@code stop} says so (asked about every
   * millisecond while it runs): a sample made in an idle moment gives way to the work that arrives. A run stopped so
   * is reported as cut off, like one that reached its cap.
   */
  public ShadowResult shadow(String sql, Duration cap, java.util.function.BooleanSupplier stop) {
    Checks.positive("cap", cap);
    Checks.notNull("stop", stop);
    return shadow(sql, defaultFraction, Math.min(timeoutNanos, cap.toNanos()), stop);
  }

  /**
   * Neither plans nor samples: a query of the same fingerprint as {@code earlier} (which was planned) reuses its
   * plan, tables and scale factors — the fast path for cheap or settled shapes. Only the sandbox's check runs, so
   * a bad literal reaches the primary (which fails it without harm). The result has {@code skipped = true}.
   *
   * @throws QueryRejectedException when the query is not a single read statement
   */
  public ShadowResult reuse(String sql, ShadowResult earlier) {
    if (earlier == null) {
      throw new IllegalArgumentException("earlier shadow must not be null for " + sql);
    }
    requireOpen(sql);
    Slot checker = acquire(checkers);
    try {
      // The sandbox's parser check runs on every path: a reused plan never lets unchecked SQL through.
      check(checker, sql);
    } finally {
      checkers.add(checker);
    }
    // No shadow ran: the check is the sandbox's cost, counted in checkNanos() as on every other path.
    return new ShadowResult(sql, earlier.fraction(), earlier.effectiveFraction(), earlier.tables(), earlier.plan(),
        null, false, 0, earlier.scanScale(), earlier.memoryScale(), 0, 0, true);
  }

  private ShadowResult shadow(String sql, double fraction, long capNanos) {
    return shadow(sql, fraction, capNanos, null);
  }

  private ShadowResult shadow(String sql, double fraction, long capNanos, java.util.function.BooleanSupplier stop) {
    Replica replica = replicas.stream().filter(r -> r.fraction() == fraction).findFirst()
        .orElseThrow(() -> new IllegalArgumentException(
            "fraction " + fraction + " is not one of the replicas' fractions " + fractions()));
    requireOpen(sql);
    Slot slot = acquire();
    try {
      check(slot, sql);
      return run(sql, replica, slot, capNanos, stop);
    } finally {
      slots.add(slot);
    }
  }

  /**
   * Only plans {@code sql} on the primary (validating it: parser, binder and literal conversions) and skips the
   * sample run: for a query whose prediction does not need one (see {@code QueryPredictor.settled}). The result
   * has {@code skipped = true}, no sample, and the plan's tables.
   *
   * @throws QueryRejectedException when the query is not a single read statement or the engine rejects it
   */
  public ShadowResult plan(String sql) {
    requireOpen(sql);
    Slot slot = acquire();
    try {
      check(slot, sql);
      long t0 = System.nanoTime();
      long cpu0 = THREADS.getCurrentThreadCpuTime();
      PlanFeatures plan;
      try {
        plan = plan(slot.primary(), sql);
      } catch (SQLException e) {
        throw Errors.reject(e);
      }
      Set<String> tables = new TreeSet<>(plan.tables());
      double eff = rule.effectiveFraction(tables, defaultFraction);
      long wall = System.nanoTime() - t0;
      long cpu = Math.max(0, THREADS.getCurrentThreadCpuTime() - cpu0);
      return new ShadowResult(sql, defaultFraction, eff, tables, plan, null, false, 0, 1.0 / eff,
          fallbackMemoryScale(plan, eff), wall, cpu, true);
    } finally {
      slots.add(slot);
    }
  }

  /** Refuses blank text, then a closed engine: what every entry point checks before it takes a slot. */
  private void requireOpen(String sql) {
    if (sql == null || sql.isBlank()) {
      throw new IllegalArgumentException("sql must not be blank, was '" + sql + "'");
    }
    if (closed) {
      throw new IllegalStateException("the shadow engine is closed");
    }
  }

  /**
   * DuckDB's own parser decides: exactly one SELECT naming no file, catalog or setting function, or the query
   * is rejected before anything runs (see {@link DuckDbSandbox#check}).
   */
  private void check(Slot slot, String sql) {
    Optional<DuckDbSandbox.Refusal> refusal;
    long t0 = System.nanoTime();
    try {
      refusal = DuckDbSandbox.check(slot.parser(), sql);
    } catch (SQLException e) {
      throw Errors.reject(e);
    } finally {
      checkNanos.add(System.nanoTime() - t0);
    }
    if (refusal.isPresent()) {
      throw new QueryRejectedException(refusal.get().syntax() ? QueryRejectedException.Kind.SYNTAX
          : QueryRejectedException.Kind.NOT_READ_ONLY, refusal.get().message(), null);
    }
  }

  private Slot acquire() {
    return acquire(slots);
  }

  private static Slot acquire(BlockingQueue<Slot> from) {
    try {
      return from.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a shadow slot", e);
    }
  }

  private static double fallbackMemoryScale(PlanFeatures plan, double eff) {
    return plan.joins() + plan.aggregates() + plan.sorts() + plan.windows() > 0 ? 1.0 / eff : 1.0;
  }

  private ShadowResult run(String sql, Replica replica, Slot slot, long capNanos,
      java.util.function.BooleanSupplier stop) {
    long t0 = System.nanoTime();
    long cpu0 = THREADS.getCurrentThreadCpuTime();
    Connection primaryConnection;
    Connection c;
    try {
      primaryConnection = slot.primary();
      c = slot.replica(replica);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot connect the shadow: " + e.getMessage(), e);
    }
    long[] planCpu = {0};
    // Planned before the sample run, not beside it: a plan on the other core inflated the sample's measured CPU
    // time on a 2-core machine, and the sample's CPU is what history scales by.
    java.util.concurrent.FutureTask<PlanFeatures> planned = new java.util.concurrent.FutureTask<>(() -> {
      long p0 = THREADS.getCurrentThreadCpuTime();
      try {
        return plan(primaryConnection, sql);
      } finally {
        planCpu[0] = Math.max(0, THREADS.getCurrentThreadCpuTime() - p0);
      }
    });
    planned.run();
    QueryProfile sample = null;
    JsonNode json = null;
    SQLException sampleError = null;
    AtomicBoolean fired = new AtomicBoolean();
    boolean notStarted = false;
    try {
      try (Statement s = c.createStatement()) {
        Runnable cut = () -> {
          if (fired.compareAndSet(false, true)) {
            try {
              s.cancel();
            } catch (SQLException e) {
              LOG.warn("could not cancel a shadow run: {}", e.getMessage());
            }
          }
        };
        long start = System.nanoTime();
        ScheduledFuture<?> cancel = stop == null ? timers.schedule(cut, capNanos, TimeUnit.NANOSECONDS)
            : timers.scheduleWithFixedDelay(() -> {
              if (stop.getAsBoolean() || System.nanoTime() - start >= capNanos) {
                cut.run();
              }
            }, 1, 1, TimeUnit.MILLISECONDS);
        try {
          if (stop != null && stop.getAsBoolean()) {
            fired.set(true);
            notStarted = true;
          } else {
            DuckDbProfiler.Run run = DuckDbProfiler.run(c, s, sql, replica.residentBytes());
            sample = run.profile();
            json = run.json();
          }
        } finally {
          cancel.cancel(false);
        }
      }
    } catch (SQLException e) {
      sampleError = e;
    }
    if (fired.get()) {
      // Cut off: the sample measurements are unknown, the plan still stands. A fresh connection next time.
      sample = null;
      json = null;
      if (!notStarted) {
        slot.dropReplica(replica);
      }
    }
    PlanFeatures plan;
    try {
      plan = planned.get();
    } catch (ExecutionException e) {
      // The primary's error names the problem in the full query's terms; it wins over the sample's.
      throw e.getCause() instanceof SQLException se ? Errors.reject(se)
          : new IllegalStateException("planning failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while planning", e);
    }
    if (sampleError != null && !fired.get()) {
      throw Errors.reject(sampleError);
    }
    Set<String> tables = new TreeSet<>(plan.tables());
    Plans.SampleScale scale = null;
    if (json != null) {
      double eff0 = rule.effectiveFraction(tables, replica.fraction());
      scale = Plans.scale(json, rule, replica.fraction(), eff0);
      tables.addAll(scale.tables());
    }
    double eff = rule.effectiveFraction(tables, replica.fraction());
    ScaledProfile operators = json == null || sample == null ? null
        : profiler != null ? primaryProfile(sql, capNanos - (System.nanoTime() - t0))
        : OperatorScaling.scale(json, sample, rule, replica.fraction(), replica.rowsPerKey());
    long wall = System.nanoTime() - t0;
    long threadCpu = Math.max(0, THREADS.getCurrentThreadCpuTime() - cpu0);
    long cpu = planCpu[0] + Math.max(threadCpu, sample == null ? 0 : sample.cpuNanos());
    return new ShadowResult(sql, replica.fraction(), eff, tables, plan, sample, sample == null,
        scale == null ? 0 : scale.scanBytes(),
        scale == null ? 1.0 / eff : scale.scanScale(),
        scale == null ? fallbackMemoryScale(plan, eff) : scale.memoryScale(),
        wall, cpu, false, operators);
  }

  /**
   * The per-operator profile from the primary engine's own sample, or null when it failed or ran out of time (the
   * prediction then scales the DuckDB sample as a whole).
   */
  private ScaledProfile primaryProfile(String sql, long remainingNanos) {
    try {
      return profiler.profile(sql, Duration.ofNanos(Math.max(MIN_PRIMARY_SAMPLE_NANOS, remainingNanos)));
    } catch (SQLException e) {
      LOG.debug("the primary's sample run failed, no per-operator profile: {}", e.getMessage());
      return null;
    }
  }

  /** The shortest time the primary's sample run is given, even when the DuckDB sample used up the cap. */
  private static final long MIN_PRIMARY_SAMPLE_NANOS = 100_000_000;

  private static PlanFeatures plan(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("EXPLAIN (FORMAT JSON) " + sql)) {
      JsonNode merged = null;
      while (r.next()) {
        JsonNode n = DuckDbProfiler.parse(r.getString(r.getMetaData().getColumnCount()));
        if (merged == null) {
          merged = n;
        }
      }
      return Plans.features(merged == null ? DuckDbProfiler.parse("[]") : merged);
    }
  }

  /**
   * Copies rows inserted into the primary since the last refresh into every replica (sampled ones only) and
   * returns the number of rows copied. The background replicator calls this every poll interval.
   */
  public long refresh() throws SQLException {
    synchronized (refreshLock) {
      if (closed) {
        return 0;
      }
      long copied = 0;
      try (Connection c = primary.open()) {
        for (Replica r : replicas) {
          copied += r.poll(c);
        }
      }
      return copied;
    }
  }

  /** The poll interval's longest stretch while nothing new arrives: this many base intervals. */
  static final int POLL_BACKOFF = 8;

  /**
   * Polls the primary after {@code delayMillis}, then again: at the base interval after a poll that copied rows, and
   * twice as late (at most {@value #POLL_BACKOFF} base intervals) after one that found nothing. Each poll scans
   * every sampled table's key for its maximum (at SF 0.1 about 8 ms of CPU a second at a 500 ms interval), which a
   * database without writes pays for nothing.
   */
  private void poll(long delayMillis) {
    if (closed) {
      return;
    }
    try {
      timers.schedule(() -> {
        long copied = refreshQuietly();
        poll(copied != 0 ? pollMillis : Math.min(POLL_BACKOFF * pollMillis, 2 * delayMillis));
      }, delayMillis, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // Closed meanwhile.
    }
  }

  /** Rows copied, or -1 when the poll failed (the next one comes at the base interval). */
  private long refreshQuietly() {
    try {
      return refresh();
    } catch (Exception e) {
      LOG.warn("shadow replication failed, retrying next interval: {}", e.getMessage());
      return -1;
    }
  }

  @Override
  public void close() {
    closed = true;
    timers.shutdownNow();
    synchronized (refreshLock) {
      for (Slot slot : slots) {
        slot.close();
      }
      checkers.forEach(Slot::close);
      replicas.forEach(Replica::close);
    }
  }

  /**
   * Connections one shadow at a time uses: to the primary (for plans) and to each replica (profiling enabled).
   * Opened on first use and kept; a replica connection whose run was cancelled is replaced.
   */
  private final class Slot {
    private Connection primaryConnection;
    private java.sql.PreparedStatement parser;
    private final java.util.Map<Replica, Connection> replicaConnections = new java.util.HashMap<>();

    Connection primary() throws SQLException {
      if (primaryConnection == null) {
        primaryConnection = ShadowEngine.this.planner.open();
      }
      return primaryConnection;
    }

    /** The sandbox's parser statement, prepared once on this slot's planner connection. */
    java.sql.PreparedStatement parser() throws SQLException {
      if (parser == null) {
        parser = DuckDbSandbox.parser(primary());
      }
      return parser;
    }

    Connection replica(Replica r) throws SQLException {
      Connection c = replicaConnections.get(r);
      if (c == null) {
        c = r.connect();
        DuckDbProfiler.enableProfiling(c);
        replicaConnections.put(r, c);
      }
      return c;
    }

    void dropReplica(Replica r) {
      closeQuietly(replicaConnections.remove(r));
    }

    void close() {
      if (parser != null) {
        try {
          parser.close();
        } catch (SQLException ignored) {
          // Closing the connection below closes it either way.
        }
      }
      closeQuietly(primaryConnection);
      replicaConnections.values().forEach(ShadowEngine::closeQuietly);
    }
  }

  private static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // Closing is best effort.
      }
    }
  }

  /** Options of a {@link ShadowEngine}. */
  public static final class Builder {
    private final ConnectionSource primary;
    private List<Double> fractions = List.of(0.01, 0.1);
    private SamplingRule rule = SamplingRule.tpch();
    private int maxConcurrent = 2;
    private Duration timeout = Duration.ofSeconds(2);
    private int replicaThreads = 1;
    private String replicaMemoryLimit = "512MB";
    private Duration pollInterval = Duration.ofMillis(500);
    private Path tempDir = Path.of(System.getProperty("java.io.tmpdir"));
    private ConnectionSource planner;
    private boolean lockReplicas = true;
    private OperatorProfiler profiler;

    private Builder(ConnectionSource primary) {
      Checks.notNull("primary connection source", primary);
      this.primary = primary;
    }

    /** Sampling fractions, each in (0, 1], distinct; the first is the default. Default 0.01 and 0.1. */
    public Builder fractions(double... fractions) {
      if (fractions.length == 0) {
        throw new IllegalArgumentException("fractions must not be empty");
      }
      List<Double> list = new ArrayList<>();
      for (double f : fractions) {
        Checks.share("fraction", f);
        if (list.contains(f)) {
          throw new IllegalArgumentException("fraction " + f + " is listed twice");
        }
        list.add(f);
      }
      this.fractions = List.copyOf(list);
      return this;
    }

    public Builder rule(SamplingRule rule) {
      Checks.notNull("rule", rule);
      this.rule = rule;
      return this;
    }

    /** Shadow runs at once (>= 1, default 2); more wait. */
    public Builder maxConcurrent(int n) {
      Checks.atLeast("maxConcurrent", n, 1);
      this.maxConcurrent = n;
      return this;
    }

    /** A sample run longer than this is cancelled and reported as cut off (> 0, default 2 s). */
    public Builder timeout(Duration timeout) {
      Checks.positive("timeout", timeout);
      this.timeout = timeout;
      return this;
    }

    /** DuckDB threads of each replica instance (>= 1, default 1). */
    public Builder replicaThreads(int threads) {
      Checks.atLeast("replicaThreads", threads, 1);
      this.replicaThreads = threads;
      return this;
    }

    /** DuckDB memory_limit of each replica instance, e.g. "512MB" (the default). */
    public Builder replicaMemoryLimit(String limit) {
      if (limit == null || !limit.strip().matches("[0-9]+(\\.[0-9]+)?\\s*[A-Za-z]*")) {
        throw new IllegalArgumentException("replicaMemoryLimit must be an amount like '512MB', was '" + limit + "'");
      }
      this.replicaMemoryLimit = limit.strip();
      return this;
    }

    /**
     * How often the replicator polls the primary for new rows (>= 0, default 500 ms; 0 = only {@link #refresh()});
     * while polls find nothing the interval doubles, up to {@value ShadowEngine#POLL_BACKOFF} times this.
     */
    public Builder pollInterval(Duration interval) {
      Checks.notNegative("pollInterval", interval);
      this.pollInterval = interval;
      return this;
    }

    /** Where the replicas' transfer files go (default java.io.tmpdir). */
    public Builder tempDir(Path dir) {
      Checks.notNull("tempDir", dir);
      this.tempDir = dir;
      return this;
    }

    /**
     * Where client queries are planned (default: the primary source). Give a connection to a locked instance
     * ({@link DuckDbSandbox#openLocked}) so client SQL never runs where the replicator exports files.
     */
    public Builder planner(ConnectionSource planner) {
      Checks.notNull("planner", planner);
      this.planner = planner;
      return this;
    }

    /**
     * Whether each replica is locked after loading (default true): external access only to its own transfer
     * directory, configuration locked. Off only for tests that inspect a replica's settings.
     */
    public Builder lockReplicas(boolean lock) {
      this.lockReplicas = lock;
      return this;
    }

    /**
     * Where the per-operator profile of a sampled query comes from when the primary is not the embedded DuckDB
     * (e.g. a {@link PostgresSample} of the PostgreSQL primary): its sample run, made after the DuckDB one within the
     * same cap, gives {@link ShadowResult#operators()}. Default: none, the DuckDB sample's own profile is scaled.
     */
    public Builder operatorProfiler(OperatorProfiler profiler) {
      if (profiler == null) {
        throw new IllegalArgumentException("operatorProfiler must not be null");
      }
      this.profiler = profiler;
      return this;
    }

    /** Loads the replicas from the primary and starts the replicator. */
    public ShadowEngine build() throws SQLException {
      return new ShadowEngine(this);
    }
  }
}
