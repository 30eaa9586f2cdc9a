package dev.penumbra.query.engine;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Futures;
import dev.penumbra.core.Resources;
import dev.penumbra.query.QueryProfile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * The embedded primary engine: DuckDB instances over one shared database file, at most {@code instances} at
 * once. Each query gets a new in-memory DuckDB instance that ATTACHes the file READ_ONLY and USEs it, set to
 * the query's reservation ({@code threads} and {@code memory_limit} are per database instance) and then locked
 * by {@link DuckDbSandbox} (no external access, no SET); the instance is closed when the query ends. A fresh
 * instance per query costs some 20 ms but means no client sees another's temporary objects or settings, and the
 * buffer pool starts empty so the measured peak is the query's own. A call waits for a free slot.
 */
public final class DuckDbEngine implements PrimaryEngine {
  private final Path databaseFile;
  private final Path tempRoot;
  private final int maxRows;
  /** One temporary (spill) directory per slot; taking one is the right to run a query. */
  private final BlockingQueue<Path> slots;
  private final ScheduledExecutorService timer;
  /**
   * One long-lived thread per instance slot runs the queries: a caller's thread never hosts DuckDB's work, and
   * DuckDB's per-thread state (its allocator's thread caches) is built once per worker, not once per caller. A burst
   * submitted from 60 fresh threads cost about 6 ms more CPU per query than the same queries on 4 reused ones.
   */
  private final java.util.concurrent.ExecutorService workers;
  /**
   * A design variant, for comparison in {@code bench query}: {@code -Dpenumbra.query.engineThreads=false} runs each
   * query on the caller's thread (the design before the engine's own threads).
   */
  static final boolean OWN_THREADS = Boolean.parseBoolean(System.getProperty("penumbra.query.engineThreads", "true"));
  /** Texts the sandbox's check approved before they were submitted here, one count per run: see {@link #checked}. */
  private final java.util.concurrent.ConcurrentHashMap<String, Integer> checked =
      new java.util.concurrent.ConcurrentHashMap<>();
  /** Most texts held as checked; past it they are forgotten and parsed again (which is always safe). */
  private static final int MAX_CHECKED = 1024;

  private DuckDbEngine(Path databaseFile, Path tempRoot, int instances, int maxRows) {
    this.databaseFile = databaseFile;
    this.tempRoot = tempRoot;
    this.maxRows = maxRows;
    this.slots = new ArrayBlockingQueue<>(instances);
    java.util.concurrent.ScheduledThreadPoolExecutor t = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
      Thread th = new Thread(r, "duckdb-engine-timeout");
      th.setDaemon(true);
      return th;
    });
    // Every query schedules its timeout and cancels it when done: without this the cancelled tasks would stay
    // queued for the whole timeout (5 minutes by default).
    t.setRemoveOnCancelPolicy(true);
    this.timer = t;
    java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
    this.workers = Executors.newFixedThreadPool(instances, r -> {
      Thread th = new Thread(r, "duckdb-query-" + n.incrementAndGet());
      th.setDaemon(true);
      return th;
    });
  }

  /**
   * Opens an engine running up to {@code instances} queries at once over {@code databaseFile}.
   *
   * @param maxRows how many result rows a {@link QueryResult} keeps (all are counted)
   * @throws IllegalArgumentException when instances or maxRows is < 1 or the file does not exist
   */
  public static DuckDbEngine open(Path databaseFile, int instances, int maxRows) throws SQLException, IOException {
    Checks.atLeast("instances", instances, 1);
    Checks.atLeast("maxRows", maxRows, 0);
    if (!Files.isRegularFile(databaseFile)) {
      throw new IllegalArgumentException("databaseFile does not exist: " + databaseFile);
    }
    DuckDbEngine e = new DuckDbEngine(databaseFile.toAbsolutePath(), Files.createTempDirectory(
        "penumbra-duckdb-" + ProcessHandle.current().pid() + "-"),
        instances, maxRows);
    try {
      for (int i = 0; i < instances; i++) {
        e.slots.add(Files.createDirectories(e.tempRoot.resolve("instance-" + i)));
      }
      // Opens one instance now so a file DuckDB cannot attach fails here, not on the first query.
      e.newInstance(e.slots.peek(), Resources.of(1000, 64L << 20)).close();
    } catch (SQLException | IOException | RuntimeException ex) {
      e.close();
      throw ex;
    }
    return e;
  }

  private Connection newInstance(Path temp, Resources reservation) throws SQLException {
    return DuckDbSandbox.openLocked(databaseFile, "tpch", List.of(
        "SET temp_directory = " + DuckDbSandbox.literal(temp.toString()),
        "SET threads = " + PrimaryEngine.threadsFor(reservation),
        // memory_limit takes whole units; KiB rounded up never grants less than reserved by more than 1 KiB.
        "SET memory_limit = '" + ((reservation.memoryBytes() + 1023) / 1024) + "KiB'",
        "PRAGMA enable_profiling = 'no_output'"));
  }

  @Override
  public String name() {
    return "duckdb";
  }

  /**
   * Says that {@code sql} has just passed {@link DuckDbSandbox#check} in this process (the query gateway checks every
   * text on its path, before anything is reserved): its next run here does not parse it again. Each call covers one
   * run of exactly that text. The instance the text runs on stays locked either way (the sandbox's second layer).
   */
  public void checked(String sql) {
    if (checked.size() >= MAX_CHECKED) {
      checked.clear();
    }
    checked.merge(sql, 1, Integer::sum);
  }

  /** Takes one run's worth of an earlier approval of {@code sql}; false when there is none. */
  private boolean takeChecked(String sql) {
    boolean[] took = {false};
    checked.computeIfPresent(sql, (k, n) -> {
      took[0] = true;
      return n == 1 ? null : n - 1;
    });
    return took[0];
  }

  public Path databaseFile() {
    return databaseFile;
  }

  @Override
  public QueryResult execute(String sql, Resources reservation, Duration timeout) {
    PrimaryEngine.checkArguments(sql, reservation, timeout);
    Path slot;
    try {
      slot = slots.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return QueryResult.failed(Outcome.SQL_ERROR, 0, "interrupted while waiting for an engine instance");
    }
    if (!OWN_THREADS) {
      try {
        return run(slot, sql, reservation, timeout);
      } finally {
        slots.add(slot);
      }
    }
    try {
      java.util.concurrent.Future<QueryResult> f = workers.submit(() -> run(slot, sql, reservation, timeout));
      // A running query is not interrupted (DuckDB does not listen); its own timeout cancels it.
      return Futures.getUninterruptibly(f);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return QueryResult.failed(Outcome.SQL_ERROR, 0, "the engine is closed");
    } finally {
      slots.add(slot);
    }
  }

  private QueryResult run(Path slot, String sql, Resources reservation, Duration timeout) {
    Connection c;
    try {
      c = newInstance(slot, reservation);
    } catch (SQLException e) {
      return QueryResult.failed(Outcome.SQL_ERROR, 0, "cannot apply the reservation: " + e.getMessage());
    }
    try {
      return run(c, sql, timeout);
    } finally {
      try {
        c.close();
      } catch (SQLException ignored) {
        // Closing an in-memory instance releases it either way.
      }
    }
  }

  private QueryResult run(Connection c, String sql, Duration timeout) {
    long resident;
    if (!takeChecked(sql)) {
      try {
        Optional<DuckDbSandbox.Refusal> refusal = DuckDbSandbox.check(c, sql);
        if (refusal.isPresent()) {
          return QueryResult.failed(Outcome.SQL_ERROR, 0, refusal.get().message());
        }
      } catch (SQLException e) {
        return QueryResult.failed(Outcome.SQL_ERROR, 0, "cannot parse the query: " + e.getMessage());
      }
    }
    try {
      resident = DuckDbProfiles.residentBytes(c);
    } catch (SQLException e) {
      return QueryResult.failed(Outcome.SQL_ERROR, 0, "cannot read DuckDB's memory use: " + e.getMessage());
    }
    AtomicBoolean timedOut = new AtomicBoolean();
    long start = System.nanoTime();
    try (Statement st = c.createStatement()) {
      ScheduledFuture<?> cancel = timer.schedule(() -> {
        timedOut.set(true);
        try {
          st.cancel();
        } catch (SQLException ignored) {
          // The statement finished or closed meanwhile.
        }
      }, timeout.toNanos(), TimeUnit.NANOSECONDS);
      Rows rows;
      try (ResultSet rs = st.executeQuery(sql)) {
        rows = Rows.read(rs, maxRows);
      } finally {
        cancel.cancel(false);
      }
      long wall = System.nanoTime() - start;
      if (timedOut.get()) {
        return QueryResult.failed(Outcome.TIMED_OUT, wall, "cancelled after " + timeout);
      }
      QueryProfile profile = DuckDbProfiles.of(DuckDbProfiles.lastProfile(c), resident, wall, rows.count());
      Outcome outcome = profile.spilledBytes() > 0 ? Outcome.SPILLED : Outcome.COMPLETED;
      return new QueryResult(outcome, rows.columns(), rows.rows(), rows.count(), profile, Optional.empty());
    } catch (SQLException e) {
      long wall = System.nanoTime() - start;
      String msg = e.getMessage() == null ? e.toString() : e.getMessage();
      if (timedOut.get()) {
        return QueryResult.failed(Outcome.TIMED_OUT, wall, "cancelled after " + timeout + ": " + msg);
      }
      if (msg.contains("Out of Memory")) {
        return QueryResult.failed(Outcome.FAILED_MEMORY, wall, msg);
      }
      return QueryResult.failed(Outcome.SQL_ERROR, wall, msg);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    workers.shutdownNow();
    try (Stream<Path> files = Files.walk(tempRoot)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // A leftover temp directory is harmless.
    }
  }
}
