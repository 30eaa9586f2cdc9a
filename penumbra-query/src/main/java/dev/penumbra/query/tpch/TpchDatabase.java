package dev.penumbra.query.tpch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;

/**
 * A TPC-H database in a DuckDB file. {@link #duckdb} generates the file on first use and reuses it afterwards
 * when its recorded metadata matches.
 *
 * @param file the DuckDB database file
 * @param metadata the scale, seed and format it was generated with
 */
public record TpchDatabase(Path file, TpchMetadata metadata) {

  public TpchDatabase {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(metadata, "metadata");
  }

  /**
   * The TPC-H database at {@code file}, generated there when the file does not exist. Generation writes a
   * temporary file beside it and moves it into place, so a crash never leaves a half-written database.
   *
   * @throws IllegalStateException when the file exists but holds another scale, seed or format (the message
   *     names both); choose another file or delete it
   */
  public static TpchDatabase duckdb(Path file, double scale, long seed) throws SQLException, IOException {
    TpchCounts.checkScale(scale);
    Path target = file.toAbsolutePath().normalize();
    TpchMetadata wanted = new TpchMetadata(scale, seed, Tpch.FORMAT_VERSION);
    synchronized (TpchDatabase.class) {
      if (Files.exists(target)) {
        Optional<TpchMetadata> found;
        try (Connection c = open(target, true)) {
          found = Tpch.metadata(c);
        }
        if (found.isPresent() && found.get().equals(wanted)) {
          return new TpchDatabase(target, wanted);
        }
        throw new IllegalStateException("DuckDB file " + target + " holds " + found.map(Object::toString)
            .orElse("no TPC-H metadata") + ", not " + wanted + "; use another file or delete it");
      }
      Files.createDirectories(target.getParent());
      Path tmp = target.resolveSibling(target.getFileName() + ".tmp-" + ProcessHandle.current().pid());
      Files.deleteIfExists(tmp);
      try {
        try (Connection c = open(tmp, false)) {
          Tpch.loadDuckDb(c, scale, seed);
          try (var st = c.createStatement()) {
            st.execute("CHECKPOINT");
          }
        }
        Files.deleteIfExists(Path.of(tmp + ".wal"));
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
        Files.deleteIfExists(Path.of(tmp + ".wal"));
      }
      return new TpchDatabase(target, wanted);
    }
  }

  /** Opens the file directly (one DuckDB instance); read-only connections can coexist, a writer cannot. */
  public Connection connect(boolean readOnly) throws SQLException {
    return open(file, readOnly);
  }

  static Connection open(Path file, boolean readOnly) throws SQLException {
    Properties p = new Properties();
    p.setProperty("autoinstall_known_extensions", "false");
    p.setProperty("autoload_known_extensions", "false");
    if (readOnly) {
      p.setProperty("duckdb.read_only", "true");
    }
    return DriverManager.getConnection("jdbc:duckdb:" + file, p);
  }
}
