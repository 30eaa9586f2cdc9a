package dev.penumbra.query.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.penumbra.core.Resources;
import dev.penumbra.query.QueryProfile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * The embedded primary engine: a pool of DuckDB instances over one shared database file. Each instance is its
 * own in-memory DuckDB database that ATTACHes the file READ_ONLY and USEs it, because DuckDB's {@code threads}
 * and {@code memory_limit} are per database instance: a query gets an instance to itself, which is set to its
 * reservation before it runs. A call waits for a free instance.
 */
public final class DuckDbEngine implements PrimaryEngine {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path databaseFile;
  private final Path tempRoot;
  private final int maxRows;
  private final BlockingQueue<Instance> pool;
  private final List<Instance> all = new ArrayList<>();
  private final ScheduledExecutorService timer;

  private record Instance(Connection connection, Path tempDir) {}

  private DuckDbEngine(Path databaseFile, Path tempRoot, int instances, int maxRows) {
    this.databaseFile = databaseFile;
    this.tempRoot = tempRoot;
    this.maxRows = maxRows;
    this.pool = new ArrayBlockingQueue<>(instances);
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "duckdb-engine-timeout");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Opens {@code instances} engine instances over {@code databaseFile}.
   *
   * @param maxRows how many result rows a {@link QueryResult} keeps (all are counted)
   * @throws IllegalArgumentException when instances or maxRows is < 1 or the file does not exist
   */
  public static DuckDbEngine open(Path databaseFile, int instances, int maxRows) throws SQLException, IOException {
    if (instances < 1) {
      throw new IllegalArgumentException("instances must be >= 1, was " + instances);
    }
    if (maxRows < 0) {
      throw new IllegalArgumentException("maxRows must be >= 0, was " + maxRows);
    }
    if (!Files.isRegularFile(databaseFile)) {
      throw new IllegalArgumentException("databaseFile does not exist: " + databaseFile);
    }
    DuckDbEngine e = new DuckDbEngine(databaseFile.toAbsolutePath(), Files.createTempDirectory("penumbra-duckdb-"),
        instances, maxRows);
    try {
      for (int i = 0; i < instances; i++) {
        Instance inst = e.newInstance(i);
        e.all.add(inst);
        e.pool.add(inst);
      }
    } catch (SQLException | IOException | RuntimeException ex) {
      e.close();
      throw ex;
    }
    return e;
  }

  private Instance newInstance(int i) throws SQLException, IOException {
    Properties p = new Properties();
    p.setProperty("autoinstall_known_extensions", "false");
    p.setProperty("autoload_known_extensions", "false");
    Connection c = DriverManager.getConnection("jdbc:duckdb:", p);
    Path temp = Files.createDirectories(tempRoot.resolve("instance-" + i));
    try (Statement st = c.createStatement()) {
      st.execute(attach());
      st.execute("USE tpch");
      st.execute("SET temp_directory = '" + temp.toString().replace("'", "''") + "'");
      st.execute("PRAGMA enable_profiling = 'no_output'");
    } catch (SQLException e) {
      c.close();
      throw e;
    }
    return new Instance(c, temp);
  }

  private String attach() {
    return "ATTACH '" + databaseFile.toString().replace("'", "''") + "' AS tpch (READ_ONLY)";
  }

  @Override
  public String name() {
    return "duckdb";
  }

  public Path databaseFile() {
    return databaseFile;
  }

  @Override
  public QueryResult execute(String sql, Resources reservation, Duration timeout) {
    PrimaryEngine.checkArguments(sql, reservation, timeout);
    Instance inst;
    try {
      inst = pool.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return QueryResult.failed(Outcome.SQL_ERROR, 0, "interrupted while waiting for an engine instance");
    }
    try {
      return run(inst, sql, reservation, timeout);
    } finally {
      pool.add(inst);
    }
  }

  private QueryResult run(Instance inst, String sql, Resources reservation, Duration timeout) {
    Connection c = inst.connection();
    long resident;
    try (Statement setup = c.createStatement()) {
      // A freshly attached database has an empty buffer pool: the query's measured peak is then its own (pages
      // cached by earlier queries would count otherwise), the same measurement whichever instance it gets.
      setup.execute("USE memory");
      setup.execute("DETACH tpch");
      setup.execute(attach());
      setup.execute("USE tpch");
      setup.execute("SET threads = " + PrimaryEngine.threadsFor(reservation));
      // memory_limit takes whole units; KiB rounded up never grants less than reserved by more than 1 KiB.
      setup.execute("SET memory_limit = '" + ((reservation.memoryBytes() + 1023) / 1024) + "KiB'");
    } catch (SQLException e) {
      return QueryResult.failed(Outcome.SQL_ERROR, 0, "cannot apply the reservation: " + e.getMessage());
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
    for (Instance i : all) {
      try {
        i.connection().close();
      } catch (SQLException ignored) {
        // Closing is best effort; the process may exit next.
      }
    }
    try (Stream<Path> files = Files.walk(tempRoot)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // A leftover temp directory is harmless.
    }
  }
}
