package dev.penumbra.query;

import dev.penumbra.query.engine.DuckDbEngine;
import dev.penumbra.query.engine.DuckDbSandbox;
import dev.penumbra.query.engine.PrimaryEngine;
import dev.penumbra.query.shadow.OperatorProfiler;
import dev.penumbra.query.shadow.ShadowEngine;
import dev.penumbra.query.tpch.TpchDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Consumer;
import org.duckdb.DuckDBConnection;

/**
 * What the gateway runs on: the TPC-H database (generated into the cache on first use), the planning handle on it,
 * the shadow's sampled replicas and the primary engine. Kept apart from the pipeline so that the gateway only
 * routes queries.
 */
final class QueryDatabase implements AutoCloseable {

  final TpchDatabase tpch;
  final ShadowEngine shadow;
  final PrimaryEngine engine;
  private final DuckDBConnection root;
  private final boolean ownEngine;

  private QueryDatabase(TpchDatabase tpch, DuckDBConnection root, ShadowEngine shadow, PrimaryEngine engine,
      boolean ownEngine) {
    this.tpch = tpch;
    this.root = root;
    this.shadow = shadow;
    this.engine = engine;
    this.ownEngine = ownEngine;
  }

  /** Where and how to open it. */
  record Options(double scale, long seed, Path cacheDir, TpchDatabase database, PrimaryEngine primary,
      int engineInstances, int maxRows, double[] shadowFractions, Duration shadowTimeout, Consumer<String> progress,
      OperatorProfiler profiler) {}

  /** The default cache directory: $XDG_CACHE_HOME/penumbra, else ~/.cache/penumbra. */
  static Path defaultCacheDir() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("penumbra");
  }

  /** The embedded database file for a scale and seed under a cache directory. */
  static Path file(Path cacheDir, double scale, long seed) {
    return cacheDir.resolve("tpch-sf" + plain(scale) + "-seed" + seed + ".duckdb");
  }

  /** Opens the database (generating it on first use), the shadow's replicas and the primary engine. */
  static QueryDatabase open(Options o) throws SQLException {
    TpchDatabase db = o.database();
    if (db == null) {
      Path file = file(o.cacheDir() != null ? o.cacheDir() : defaultCacheDir(), o.scale(), o.seed());
      boolean generate = !Files.exists(file);
      long t0 = System.nanoTime();
      if (generate) {
        o.progress().accept(String.format(Locale.ROOT, "generating TPC-H SF %s (seed %d) into %s ...",
            plain(o.scale()), o.seed(), file));
      }
      try {
        db = TpchDatabase.duckdb(file, o.scale(), o.seed());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create " + file + ": " + e.getMessage(), e);
      }
      if (generate) {
        o.progress().accept(String.format(Locale.ROOT, "generated in %.1f s", (System.nanoTime() - t0) / 1e9));
      }
    }
    double sf = db.metadata().scale();
    double[] fractions = o.shadowFractions() != null ? o.shadowFractions() : new double[] {sf >= 1 ? 0.01 : 0.1};
    DuckDBConnection conn = (DuckDBConnection) db.connect(true);
    ShadowEngine sqe = null;
    try {
      try (Statement s = conn.createStatement()) {
        // Planning only: the primary's plan is read through this handle, it runs no queries.
        s.execute("SET threads = 1");
      }
      Path file = db.file();
      // Client SQL is planned on locked instances of their own; the primary handle only feeds the replicas.
      ShadowEngine.Builder sb = ShadowEngine.builder(conn::duplicate).fractions(fractions).timeout(o.shadowTimeout())
          .planner(() -> DuckDbSandbox.openLocked(file, "tpch", List.of("SET threads = 1")));
      if (o.profiler() != null) {
        sb.operatorProfiler(o.profiler());
      }
      sqe = sb.build();
      PrimaryEngine eng = o.primary() != null ? o.primary()
          : DuckDbEngine.open(db.file(), o.engineInstances(), o.maxRows());
      return new QueryDatabase(db, conn, sqe, eng, o.primary() == null);
    } catch (IOException e) {
      closeQuietly(conn, sqe);
      throw new UncheckedIOException(e);
    } catch (SQLException | RuntimeException e) {
      closeQuietly(conn, sqe);
      throw e;
    }
  }

  @Override
  public void close() {
    shadow.close();
    if (ownEngine) {
      engine.close();
    }
    closeQuietly(root, null);
  }

  private static void closeQuietly(DuckDBConnection c, ShadowEngine sqe) {
    if (sqe != null) {
      sqe.close();
    }
    try {
      c.close();
    } catch (SQLException ignored) {
      // Closing is best effort.
    }
  }

  private static String plain(double scale) {
    return java.math.BigDecimal.valueOf(scale).stripTrailingZeros().toPlainString();
  }
}
