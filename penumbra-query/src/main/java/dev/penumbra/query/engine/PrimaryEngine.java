package dev.penumbra.query.engine;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Resources;
import java.time.Duration;

/**
 * Runs SQL on exactly the resources reserved for it and reports what it used. Implementations are thread-safe:
 * concurrent calls run on separate engine instances or sessions, each with its own reservation.
 */
public interface PrimaryEngine extends AutoCloseable {

  /** "duckdb" or "postgresql". */
  String name();

  /**
   * Executes one query. Never throws for a failing query: SQL errors, out-of-memory and timeouts are
   * reported in the result's {@link Outcome}.
   *
   * @param sql one SELECT statement
   * @param reservation CPU (millicores, rounded up to whole threads/workers, at least one) and memory (bytes,
   *     must be > 0) the query may use; IO and network are not enforced
   * @param timeout after which the query is cancelled (> 0)
   * @throws IllegalArgumentException for a blank sql, a zero memory reservation or a non-positive timeout
   */
  QueryResult execute(String sql, Resources reservation, Duration timeout);

  @Override
  void close();

  /** Threads (DuckDB) or parallel workers + 1 (PostgreSQL) a reservation grants: ceil(cpu / 1000), >= 1. */
  static int threadsFor(Resources reservation) {
    return (int) Math.max(1, (reservation.cpuMillis() + 999) / 1000);
  }

  /** Checks the arguments of {@link #execute} the same way for every engine. */
  static void checkArguments(String sql, Resources reservation, Duration timeout) {
    if (sql == null || sql.isBlank()) {
      throw new IllegalArgumentException("sql must not be blank, was '" + sql + "'");
    }
    if (reservation == null || reservation.memoryBytes() <= 0) {
      throw new IllegalArgumentException("reservation.memoryBytes must be > 0, was "
          + (reservation == null ? "null" : reservation.memoryBytes()));
    }
    Checks.positive("timeout", timeout);
  }
}
