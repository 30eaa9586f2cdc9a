package dev.penumbra.shard;

import dev.penumbra.core.Checks;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Analytic SQL on a shard's keys, on a DuckDB instance of its own (one per backend: DuckDB's threads and memory
 * limit are per instance) with the data attached read-only. The query's {@code {keys}} placeholder becomes the
 * shard's key predicate on {@code keyColumn}. The query must return group columns first, then mergeable
 * aggregates (sums and counts); {@link #merge} adds the partial results up per group.
 *
 * <p>A shard's query stops when the thread that applies it is interrupted (a cancelled attempt, on either
 * transport): DuckDB does not see Java interrupts, so the query runs on a thread of its own while the caller waits
 * interruptibly, and an interrupt becomes the engine's own {@link Statement#cancel()} ({@code
 * DuckDBConnection.interrupt()}). The caller returns (throwing {@link InterruptedException}) only once the query
 * stopped, so the connection is free for the next shard.
 */
public final class SqlShardFunction implements ShardFunction, AutoCloseable {

  /** How often a cancel is repeated until the query stopped (one sent before the query began is a no-op). */
  private static final long CANCEL_REPEAT_MILLIS = 20;

  private final Connection connection;
  private final String query;
  private final String keyColumn;
  /** One query at a time on the connection; waiting for it is interruptible, unlike a monitor. */
  private final ReentrantLock lock = new ReentrantLock();
  private final AtomicLong interrupted = new AtomicLong();
  /** The statement running now, if any: closing cancels it. */
  private volatile Statement current;

  /**
   * @param database a DuckDB database file, attached read-only as {@code db} and used as the default schema
   * @param query SQL containing {@code {keys}}
   * @param keyColumn the integer column shards are cut on
   * @param threads DuckDB threads of this instance (>= 1)
   */
  public SqlShardFunction(String database, String query, String keyColumn, int threads) throws SQLException {
    if (query == null || !query.contains("{keys}")) {
      throw new IllegalArgumentException("shard query must contain {keys}, was '" + query + "'");
    }
    Checks.atLeast("threads", threads, 1);
    Subset.of(KeyRange.of(0, 1)).sqlPredicate(keyColumn);
    this.query = query;
    this.keyColumn = keyColumn;
    this.connection = DriverManager.getConnection("jdbc:duckdb:");
    try (Statement s = connection.createStatement()) {
      s.execute("SET autoinstall_known_extensions=false");
      s.execute("SET threads=" + threads);
      s.execute("ATTACH '" + database.replace("'", "''") + "' AS db (READ_ONLY)");
      s.execute("USE db");
    }
  }

  @Override
  public Object apply(Shard shard) throws SQLException, InterruptedException {
    return interruptibly(query.replace("{keys}", shard.subset().sqlPredicate(keyColumn)), shard.id());
  }

  /** Runs the query over all keys at once (the unsharded answer). */
  public List<List<Object>> unsharded() throws SQLException, InterruptedException {
    return interruptibly(query.replace("{keys}", "TRUE"), "unsharded");
  }

  /** Queries stopped mid-run by an interrupt of the thread that applied them. */
  public long interrupted() {
    return interrupted.get();
  }

  private List<List<Object>> interruptibly(String sql, String what) throws SQLException, InterruptedException {
    lock.lockInterruptibly();
    try (Statement s = connection.createStatement()) {
      current = s;
      FutureTask<List<List<Object>>> task = new FutureTask<>(() -> run(s, sql));
      Thread runner = Thread.ofPlatform().daemon().name("sql-shard-" + what).start(task);
      try {
        return task.get();
      } catch (InterruptedException cancel) {
        // Stops the query in the engine and waits until it did; the caller's interrupt is answered below.
        while (runner.isAlive()) {
          s.cancel();
          try {
            runner.join(CANCEL_REPEAT_MILLIS);
          } catch (InterruptedException again) {
            // Being stopped already.
          }
        }
        interrupted.incrementAndGet();
        throw new InterruptedException("SQL shard " + what + " interrupted");
      } catch (ExecutionException e) {
        if (e.getCause() instanceof SQLException sql2) {
          throw sql2;
        }
        throw new IllegalStateException("SQL shard " + what + " failed: " + e.getCause(), e.getCause());
      }
    } finally {
      current = null;
      lock.unlock();
    }
  }

  private static List<List<Object>> run(Statement s, String sql) throws SQLException {
    List<List<Object>> rows = new ArrayList<>();
    try (ResultSet rs = s.executeQuery(sql)) {
      ResultSetMetaData md = rs.getMetaData();
      while (rs.next()) {
        List<Object> row = new ArrayList<>();
        for (int i = 1; i <= md.getColumnCount(); i++) {
          row.add(rs.getObject(i));
        }
        rows.add(row);
      }
    }
    return rows;
  }

  /**
   * Adds partial results up: rows with equal first {@code groupColumns} values are one group; every other column
   * is summed exactly (integers as longs, decimals as BigDecimal). Groups come out sorted by their text form.
   */
  public static List<List<Object>> merge(List<List<List<Object>>> partials, int groupColumns) {
    Map<String, List<Object>> groups = new TreeMap<>();
    for (List<List<Object>> part : partials) {
      for (List<Object> row : part) {
        String key = Arrays.toString(row.subList(0, groupColumns).toArray());
        List<Object> acc = groups.get(key);
        if (acc == null) {
          groups.put(key, new ArrayList<>(row));
          continue;
        }
        for (int i = groupColumns; i < row.size(); i++) {
          acc.set(i, add(acc.get(i), row.get(i)));
        }
      }
    }
    return List.copyOf(groups.values());
  }

  /** Sorts rows the way {@link #merge} does, for comparing with an unsharded answer. */
  public static List<List<Object>> sorted(List<List<Object>> rows, int groupColumns) {
    return merge(List.of(rows), groupColumns);
  }

  private static Object add(Object a, Object b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    if (a instanceof BigDecimal x && b instanceof BigDecimal y) {
      return x.add(y);
    }
    if (a instanceof Long || a instanceof Integer || a instanceof java.math.BigInteger) {
      return new java.math.BigInteger(a.toString()).add(new java.math.BigInteger(b.toString())).longValueExact();
    }
    throw new IllegalArgumentException("cannot merge non-exact aggregate values " + a + " and " + b
        + " (" + a.getClass().getSimpleName() + "); use sums and counts of integers or decimals");
  }

  @Override
  public void close() throws SQLException {
    // Interrupts a query still running (its runner then ends), so closing never waits for a long shard.
    Statement running = current;
    if (running != null) {
      running.cancel();
    }
    lock.lock();
    try {
      connection.close();
    } finally {
      lock.unlock();
    }
  }
}
