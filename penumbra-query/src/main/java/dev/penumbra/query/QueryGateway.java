package dev.penumbra.query;

import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Allocator;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.InsufficientCapacityException;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.query.QueryReport.Adjustment;
import dev.penumbra.query.engine.DuckDbEngine;
import dev.penumbra.query.engine.DuckDbSandbox;
import dev.penumbra.query.engine.Outcome;
import dev.penumbra.query.engine.PrimaryEngine;
import dev.penumbra.query.engine.QueryResult;
import dev.penumbra.query.predict.QueryPrediction;
import dev.penumbra.query.predict.QueryPredictor;
import dev.penumbra.query.shadow.QueryRejectedException;
import dev.penumbra.query.shadow.ShadowEngine;
import dev.penumbra.query.shadow.ShadowResult;
import dev.penumbra.query.tpch.TpchDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.duckdb.DuckDBConnection;

/**
 * The query gateway: every query is shadowed, predicted, reserved by priority, run on the primary with exactly
 * its reservation, measured, released and learned from.
 *
 * <pre>{@code
 * try (QueryGateway gw = QueryGateway.builder().scale(0.1).build()) {   // ~/.cache/penumbra/tpch-sf0.1-seed42.duckdb
 *   QueryResponse r = gw.submit(new QueryRequest("SELECT count(*) FROM orders", "ana", Sla.of(Priority.STANDARD)));
 *   r.rows(); r.report().prediction(); r.report().reservation(); r.report().actual();
 * }
 * }</pre>
 *
 * <p>Flow of {@link #submit}: the shadow plans the query on the primary and runs it on the sample (bad SQL is
 * rejected here with {@link QueryRejectedException}, before anything is reserved); the predictor turns that
 * into a {@link Demand} adjusted for the queries running now; the allocator sizes it at the priority's
 * quantile (widened for models that overran, from the shared {@link ErrorTracker}), floors the memory at
 * {@link Builder#minMemory}, caps it at the largest node, and queues it by priority; the reservation is
 * activated and the primary runs the query with exactly that many threads and that memory limit. When the
 * primary fails for memory, the reservation is extended to twice its memory (in place when the node has room,
 * otherwise through the queue again) and the query is retried once. The reservation is released as soon as
 * the query ends, and the run is learned from.
 *
 * <p>Preemption is off: the ledger's preemption may take ACTIVE reservations, and a running query cannot give
 * its memory back; waiting queries are ordered by priority instead, so a critical query waits only for running
 * ones. Thread-safe: submit from any number of threads.
 */
public final class QueryGateway implements AutoCloseable {

  private final TpchDatabase database;
  private final DuckDBConnection root;
  private final ShadowEngine shadow;
  private final QueryPredictor predictor;
  private final boolean ownPredictor;
  private final PrimaryEngine engine;
  private final boolean ownEngine;
  private final Ledger ledger;
  private final Allocator allocator;
  private final ErrorTracker errors;
  private final Duration timeout;
  private final long minMemory;
  private final Resources largest;
  private final int cores;
  private final long cpuPerThreadNanos;
  private final boolean skipSettled;
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicLong sequence = new AtomicLong();
  private volatile boolean learning = true;

  private QueryGateway(Builder b, TpchDatabase database, DuckDBConnection root, ShadowEngine shadow,
      PrimaryEngine engine) {
    this.database = database;
    this.root = root;
    this.shadow = shadow;
    this.engine = engine;
    this.ownEngine = b.primary == null;
    this.errors = b.predictor != null ? b.predictor.errorTracker() : new ErrorTracker();
    this.ownPredictor = b.predictor == null;
    this.predictor = b.predictor != null ? b.predictor
        : QueryPredictor.builder().cores(b.cores()).errorTracker(errors).build();
    Resources big = Resources.ZERO;
    if (b.ledger != null) {
      // A shared ledger (a server's): its nodes are the capacity, as the owner sized them; the gateway adds none.
      this.ledger = b.ledger;
      for (var n : ledger.nodes()) {
        big = big.max(n.capacity());
      }
    } else {
      this.ledger = Ledger.inMemory(b.clock);
      for (Map.Entry<String, Resources> n : b.nodes().entrySet()) {
        // CPU is compressible: the ledger may promise each core to cpuOvercommit threads (memory is never
        // overcommitted).
        Resources c = n.getValue();
        ledger.addNode(n.getKey(), c.with(Resources.Dimension.CPU, (long) Math.floor(c.cpuMillis() * b.cpuOvercommit)));
        big = big.max(c);
      }
    }
    this.largest = big;
    this.cores = (int) Math.max(1, big.cpuMillis() / 1000);
    this.timeout = b.timeout;
    this.minMemory = b.minMemory;
    this.cpuPerThreadNanos = b.cpuPerThread.toNanos();
    this.skipSettled = b.skipSettledShadows;
    // The lease outlives the longest run (two attempts) so a running query's reservation never expires.
    // The allocator learns from what its reservations turned out to need (recordOutcome after each query),
    // per model and priority; the predictor's own scores (against its p90) stay apart.
    this.allocator = Allocator.builder(ledger).preemption(false).feedback(new ErrorTracker())
        .lease(b.timeout.multipliedBy(2).plusMinutes(1)).clock(b.clock).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Runs one query through shadow, prediction, reservation, execution and feedback.
   *
   * @throws QueryRejectedException when the shadow rejects the SQL (syntax, unknown table or column, type error,
   *     not a read query); nothing was reserved
   * @throws IllegalArgumentException when the request is null
   * @throws dev.penumbra.core.allocate.DeadlineExceededException when the deadline passed while it waited
   */
  public QueryResponse submit(QueryRequest request) {
    if (request == null) {
      throw new IllegalArgumentException("request must not be null");
    }
    Optional<String> settled = skipSettled ? predictor.settled(request.sql()) : Optional.empty();
    ShadowResult sr = settled.isPresent() ? shadow.plan(request.sql()) : shadow.shadow(request.sql());
    int now = running.get();
    // CPU first (it hardly depends on the threads), then wall time for the threads that CPU earns.
    QueryPrediction single = predictor.predict(sr, new QueryPredictor.Load(cores, now, 1));
    int threads = threadsFor(single.cpuNanos().point());
    QueryPrediction prediction = threads == 1 ? single
        : predictor.predict(sr, new QueryPredictor.Load(cores, now, threads));
    Demand demand = prediction.demand();
    Resources requested = allocator.sizeFor(demand, request.sla())
        .with(Resources.Dimension.CPU, threads * 1000L);
    Resources amount = fit(requested);
    String owner = request.user() + "/q" + sequence.incrementAndGet();
    List<Adjustment> adjustments = new ArrayList<>();
    long[] waited = {0};
    Reservation r = reserve(owner, amount, request, waited);
    QueryResult result;
    int attempts = 1;
    running.incrementAndGet();
    try {
      result = engine.execute(request.sql(), r.amount(), timeout);
      if (result.outcome() == Outcome.FAILED_MEMORY && r.amount().memoryBytes() < largest.memoryBytes()) {
        Resources before = r.amount();
        Resources bigger = before.with(Resources.Dimension.MEMORY,
            Math.min(largest.memoryBytes(), Math.multiplyExact(before.memoryBytes(), 2)));
        r = extend(r, bigger, owner, request, waited);
        adjustments.add(new Adjustment(Adjustment.Kind.EXTENDED, before, r.amount(),
            "FAILED_MEMORY: memory doubled, retrying once"));
        result = engine.execute(request.sql(), r.amount(), timeout);
        attempts = 2;
      }
    } finally {
      running.decrementAndGet();
      if (ledger.get(r.id()).map(Reservation::isLive).orElse(false)) {
        ledger.release(r.id());
        adjustments.add(new Adjustment(Adjustment.Kind.RELEASED, r.amount(), Resources.ZERO, "query ended"));
      }
    }
    learn(sr, result, r.amount());
    recordOutcome(demand, request, r.amount(), result);
    QueryReport.Shadow shadowReport = new QueryReport.Shadow(sr.fraction(), sr.effectiveFraction(), sr.cutOff(),
        sr.sample(), sr.shadowWallNanos(), sr.shadowCpuNanos(), settled);
    QueryReport report = new QueryReport(request.user(), request.sla(), engine.name(), shadowReport, prediction,
        new QueryReport.Allocation(r.id(), r.node(), requested, r.amount(), waited[0]),
        result.outcome(), result.error(), result.profile(), attempts, adjustments);
    return new QueryResponse(result.columns(), result.rows(), result.rowCount(), report);
  }

  /**
   * Threads a query is granted: one per {@code cpuPerThread} of predicted CPU time (rounded up), at least 1 and
   * at most the node's cores. A query with less CPU than that gains little from a second thread (DuckDB splits
   * scans into row groups of 122,880 rows; a short query has few to share), and under load a thread it does
   * not use well is a core another query could have.
   */
  int threadsFor(long cpuNanos) {
    long t = (cpuNanos + cpuPerThreadNanos - 1) / cpuPerThreadNanos;
    return (int) Math.max(1, Math.min(cores, t));
  }

  /** Floors memory at the minimum and caps every dimension at the largest node, so a request can always place. */
  private Resources fit(Resources sized) {
    long mem = Math.min(largest.memoryBytes(), Math.max(minMemory, sized.memoryBytes()));
    long cpu = Math.min(largest.cpuMillis(), Math.max(1, sized.cpuMillis()));
    return Resources.of(cpu, mem);
  }

  private Reservation reserve(String owner, Resources amount, QueryRequest request, long[] waited) {
    long t0 = System.nanoTime();
    var ticket = allocator.request(owner, amount, request.sla());
    try {
      Reservation r = ticket.future().get();
      return ledger.activate(r.id());
    } catch (InterruptedException e) {
      ticket.cancel();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a reservation for " + owner, e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    } catch (CancellationException e) {
      throw new IllegalStateException("the reservation request of " + owner + " was cancelled", e);
    } finally {
      waited[0] += System.nanoTime() - t0;
    }
  }

  /** Grows in place when the node has room; otherwise gives the reservation back and queues for the larger one. */
  private Reservation extend(Reservation r, Resources bigger, String owner, QueryRequest request, long[] waited) {
    try {
      return ledger.resize(r.id(), bigger);
    } catch (InsufficientCapacityException e) {
      ledger.release(r.id());
      return reserve(owner, bigger, request, waited);
    }
  }

  /**
   * Feeds the actual back. A spilled run's peak is bounded by its limit, so its need is taken as the reserved
   * memory plus what it spilled; a run that failed for memory twice needed more than its reservation, which is
   * taken as the need's lower bound. Runs that failed otherwise (SQL error, timeout) teach nothing.
   */
  private void learn(ShadowResult sr, QueryResult result, Resources reserved) {
    QueryProfile a = result.profile();
    QueryProfile learned = switch (result.outcome()) {
      case COMPLETED -> a;
      case SPILLED -> withMemory(a, Math.max(a.peakMemoryBytes(), reserved.memoryBytes() + a.spilledBytes()));
      case FAILED_MEMORY -> withMemory(a, Math.max(a.peakMemoryBytes(), reserved.memoryBytes() + 1));
      case TIMED_OUT, SQL_ERROR -> null;
    };
    if (learned != null && learning) {
      predictor.learn(sr, learned, PrimaryEngine.threadsFor(reserved));
    }
  }

  /**
   * Tells the allocator what the reservation turned out to need: memory (a spilled or failed run needed more
   * than it had) and average cores over the run. Runs that failed otherwise teach nothing.
   */
  private void recordOutcome(Demand demand, QueryRequest request, Resources reserved, QueryResult result) {
    QueryProfile a = result.profile();
    long memory = switch (result.outcome()) {
      case COMPLETED -> a.peakMemoryBytes();
      case SPILLED -> Math.max(a.peakMemoryBytes(), reserved.memoryBytes() + a.spilledBytes());
      case FAILED_MEMORY -> Math.max(a.peakMemoryBytes(), reserved.memoryBytes() + 1);
      case TIMED_OUT, SQL_ERROR -> -1;
    };
    if (memory < 0) {
      return;
    }
    long cores = a.wallNanos() > 0 ? (long) Math.ceil(1000.0 * a.cpuNanos() / a.wallNanos()) : 0;
    allocator.recordOutcome(demand.model(), request.sla().priority(), reserved, Resources.of(cores, memory));
  }

  private static QueryProfile withMemory(QueryProfile p, long memory) {
    return new QueryProfile(p.cpuNanos(), memory, p.wallNanos(), p.bytesRead(), p.rowsScanned(), p.rowsReturned(),
        p.spilledBytes());
  }

  /**
   * Turns learning from actuals on (the default) or off; off freezes the predictor, e.g. to evaluate it on
   * queries it must not train on.
   */
  public void learning(boolean on) {
    this.learning = on;
  }

  /** The ledger the gateway reserves on (subscribe to watch every change). */
  public Ledger ledger() {
    return ledger;
  }

  /** The predictor (its error statistics per tier and metric). */
  public QueryPredictor predictor() {
    return predictor;
  }

  /** The error record the predictor scores into and the allocator's sizing reads. */
  public ErrorTracker errors() {
    return errors;
  }

  /** The primary engine queries run on. */
  public PrimaryEngine engine() {
    return engine;
  }

  /** The TPC-H database the shadow samples (and the embedded primary runs on). */
  public TpchDatabase database() {
    return database;
  }

  /**
   * Fails waiting queries whose deadline has come and admits what now fits: call it periodically (a server's
   * ledger timer does) so a deadline is kept on time, not when the next query arrives.
   */
  public void tick() {
    allocator.tick();
  }

  /** Queries of {@code priority} waiting for a reservation now. */
  public int waiting(dev.penumbra.core.Priority priority) {
    return (int) allocator.queue().stream().filter(t -> t.sla().priority() == priority).count();
  }

  /** Queries waiting for a reservation now. */
  public int waiting() {
    return allocator.waiting();
  }

  @Override
  public void close() {
    allocator.close();
    shadow.close();
    if (ownEngine) {
      engine.close();
    }
    if (ownPredictor) {
      predictor.close();
    }
    try {
      root.close();
    } catch (SQLException ignored) {
      // Closing is best effort.
    }
  }

  /** The default cache directory: $XDG_CACHE_HOME/penumbra, else ~/.cache/penumbra. */
  public static Path defaultCacheDir() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("penumbra");
  }

  /** The embedded database file for a scale and seed under a cache directory. */
  public static Path databaseFile(Path cacheDir, double scale, long seed) {
    String sf = java.math.BigDecimal.valueOf(scale).stripTrailingZeros().toPlainString();
    return cacheDir.resolve("tpch-sf" + sf + "-seed" + seed + ".duckdb");
  }

  /** Options of a {@link QueryGateway}; every one has a default. */
  public static final class Builder {
    private double scale = 0.1;
    private long seed = 42;
    private Path cacheDir;
    private TpchDatabase database;
    private PrimaryEngine primary;
    private QueryPredictor predictor;
    private final Map<String, Resources> nodes = new LinkedHashMap<>();
    private int engineInstances = 8;
    private int maxRows = 100;
    private Duration timeout = Duration.ofMinutes(5);
    private long minMemory = 16L << 20;
    private double[] shadowFractions;
    private Duration shadowTimeout = Duration.ofSeconds(2);
    private double cpuOvercommit = 2.0;
    private Duration cpuPerThread = Duration.ofMillis(250);
    private boolean skipSettledShadows = true;
    private Clock clock = Clock.systemUTC();
    private Consumer<String> progress = m -> {};
    private Ledger ledger;

    private Builder() {}

    /**
     * Reserves on this ledger (shared with other work) instead of a private one; its nodes are the capacity
     * and {@link #node} is ignored. The ledger must have at least one node with >= 1 core and memory > 0.
     */
    public Builder ledger(Ledger ledger) {
      if (ledger == null || ledger.nodes().stream()
          .noneMatch(n -> n.capacity().cpuMillis() >= 1000 && n.capacity().memoryBytes() > 0)) {
        throw new IllegalArgumentException("ledger must have a node with >= 1 core and memory > 0, was "
            + (ledger == null ? "null" : ledger.nodes()));
      }
      this.ledger = ledger;
      return this;
    }

    /** TPC-H scale factor of the embedded database (> 0, default 0.1). */
    public Builder scale(double scale) {
      if (!(scale > 0) || Double.isInfinite(scale)) {
        throw new IllegalArgumentException("scale must be > 0, was " + scale);
      }
      this.scale = scale;
      return this;
    }

    /** Seed of the generated data (default 42). */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Where the embedded database file lives (default {@link #defaultCacheDir()}). */
    public Builder cacheDir(Path dir) {
      if (dir == null) {
        throw new IllegalArgumentException("cacheDir must not be null");
      }
      this.cacheDir = dir;
      return this;
    }

    /** An existing TPC-H database instead of the cached one (scale, seed and cache dir are then ignored). */
    public Builder database(TpchDatabase database) {
      if (database == null) {
        throw new IllegalArgumentException("database must not be null");
      }
      this.database = database;
      return this;
    }

    /**
     * Another primary engine holding the same data (e.g. a {@code PostgresEngine} loaded with the same scale and
     * seed); the caller keeps ownership and closes it. Default: a DuckDB pool over the database file.
     */
    public Builder primary(PrimaryEngine engine) {
      if (engine == null) {
        throw new IllegalArgumentException("primary must not be null");
      }
      this.primary = engine;
      return this;
    }

    /** A predictor to use (and keep: the caller closes it); its error tracker is the one sizing reads. */
    public Builder predictor(QueryPredictor predictor) {
      if (predictor == null) {
        throw new IllegalArgumentException("predictor must not be null");
      }
      this.predictor = predictor;
      return this;
    }

    /**
     * Adds a ledger node with its capacity (CPU millicores and memory bytes are reserved). Default: one node
     * "local" with this machine's cores and a quarter of its physical memory.
     */
    public Builder node(String id, Resources capacity) {
      if (id == null || id.isBlank()) {
        throw new IllegalArgumentException("node id must not be blank, was " + id);
      }
      if (capacity == null || capacity.cpuMillis() < 1000 || capacity.memoryBytes() <= 0) {
        throw new IllegalArgumentException("capacity of node '" + id
            + "' must have >= 1 core and memory > 0, was " + capacity);
      }
      if (nodes.containsKey(id)) {
        throw new IllegalArgumentException("node '" + id + "' is already configured");
      }
      nodes.put(id, capacity);
      return this;
    }

    /** Engine instances of the embedded DuckDB pool (>= 1, default 8). */
    public Builder engineInstances(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("engineInstances must be >= 1, was " + n);
      }
      this.engineInstances = n;
      return this;
    }

    /** Result rows kept per query (>= 0, default 100; all are counted). */
    public Builder maxRows(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("maxRows must be >= 0, was " + n);
      }
      this.maxRows = n;
      return this;
    }

    /** Primary execution timeout per attempt (> 0, default 5 minutes). */
    public Builder timeout(Duration timeout) {
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be > 0, was " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /** Smallest memory reserved for a query (> 0, default 16 MiB): DuckDB needs some buffer memory for any scan. */
    public Builder minMemory(long bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("minMemory must be > 0, was " + bytes);
      }
      this.minMemory = bytes;
      return this;
    }

    /** The shadow's sampling fractions (default 0.01 at SF >= 1, else 0.1, so the sample keeps enough rows). */
    public Builder shadowFractions(double... fractions) {
      this.shadowFractions = fractions.clone();
      return this;
    }

    /** How long a sample run may take before it is cut off (default 2 s). */
    public Builder shadowTimeout(Duration timeout) {
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("shadowTimeout must be > 0, was " + timeout);
      }
      this.shadowTimeout = timeout;
      return this;
    }

    /**
     * How many threads the ledger may promise per physical core (>= 1, default 2). CPU is compressible: an
     * overcommitted query runs slower, it does not fail; memory is never overcommitted.
     */
    public Builder cpuOvercommit(double factor) {
      if (!(factor >= 1) || Double.isInfinite(factor)) {
        throw new IllegalArgumentException("cpuOvercommit must be >= 1, was " + factor);
      }
      this.cpuOvercommit = factor;
      return this;
    }

    /** Predicted CPU time that earns a query one more thread (> 0, default 250 ms). */
    public Builder cpuPerThread(Duration cpu) {
      if (cpu == null || cpu.isNegative() || cpu.isZero()) {
        throw new IllegalArgumentException("cpuPerThread must be > 0, was " + cpu);
      }
      this.cpuPerThread = cpu;
      return this;
    }

    /**
     * Whether a query whose fingerprint is settled (its history predicts well, see {@code
     * QueryPredictor.settled}) is only planned, its sample run skipped (default true).
     */
    public Builder skipSettledShadows(boolean skip) {
      this.skipSettledShadows = skip;
      return this;
    }

    /** The ledger's and allocator's clock (default the system clock). */
    public Builder clock(Clock clock) {
      if (clock == null) {
        throw new IllegalArgumentException("clock must not be null");
      }
      this.clock = clock;
      return this;
    }

    /** Receives progress messages (data generation); default none. */
    public Builder progress(Consumer<String> progress) {
      if (progress == null) {
        throw new IllegalArgumentException("progress must not be null");
      }
      this.progress = progress;
      return this;
    }

    int cores() {
      if (ledger != null) {
        return (int) Math.max(1, ledger.nodes().stream().mapToLong(n -> n.capacity().cpuMillis()).max().orElse(1000)
            / 1000);
      }
      return (int) Math.max(1, nodes().values().stream().mapToLong(Resources::cpuMillis).max().orElse(1000) / 1000);
    }

    Map<String, Resources> nodes() {
      if (!nodes.isEmpty()) {
        return nodes;
      }
      long physical = 4L << 30;
      if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
        physical = os.getTotalMemorySize();
      }
      return Map.of("local", Resources.of(Runtime.getRuntime().availableProcessors() * 1000L, physical / 4));
    }

    /** Opens the database (generating it on first use), the shadow's replicas and the primary engine. */
    public QueryGateway build() throws SQLException {
      TpchDatabase db = database;
      if (db == null) {
        Path file = databaseFile(cacheDir != null ? cacheDir : defaultCacheDir(), scale, seed);
        boolean generate = !Files.exists(file);
        long t0 = System.nanoTime();
        if (generate) {
          progress.accept(String.format(Locale.ROOT, "generating TPC-H SF %s (seed %d) into %s ...",
              java.math.BigDecimal.valueOf(scale).stripTrailingZeros().toPlainString(), seed, file));
        }
        try {
          db = TpchDatabase.duckdb(file, scale, seed);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot create " + file + ": " + e.getMessage(), e);
        }
        if (generate) {
          progress.accept(String.format(Locale.ROOT, "generated in %.1f s", (System.nanoTime() - t0) / 1e9));
        }
      }
      double sf = db.metadata().scale();
      double[] fractions = shadowFractions != null ? shadowFractions : new double[] {sf >= 1 ? 0.01 : 0.1};
      DuckDBConnection conn = (DuckDBConnection) db.connect(true);
      ShadowEngine sqe = null;
      PrimaryEngine eng = primary;
      try {
        try (Statement s = conn.createStatement()) {
          // Planning only: the primary's plan is read through this handle, it runs no queries.
          s.execute("SET threads = 1");
        }
        Path file = db.file();
        // Client SQL is planned on locked instances of their own; the primary handle only feeds the replicas.
        sqe = ShadowEngine.builder(conn::duplicate).fractions(fractions).timeout(shadowTimeout)
            .planner(() -> DuckDbSandbox.openLocked(file, "tpch", List.of("SET threads = 1"))).build();
        if (eng == null) {
          eng = DuckDbEngine.open(db.file(), engineInstances, maxRows);
        }
        return new QueryGateway(this, db, conn, sqe, eng);
      } catch (IOException e) {
        close(conn, sqe);
        throw new UncheckedIOException(e);
      } catch (SQLException | RuntimeException e) {
        close(conn, sqe);
        throw e;
      }
    }

    private static void close(Connection c, ShadowEngine sqe) {
      if (sqe != null) {
        sqe.close();
      }
      try {
        c.close();
      } catch (SQLException ignored) {
        // best effort
      }
    }
  }
}
