package dev.penumbra.query;

import java.nio.file.Path;
import java.util.List;

/**
 * The hostile inputs of the SQL sandbox's tests (issue findings 1-3), each written as a client sent it. Files the
 * probes try to create live under {@code dir}; a test checks afterwards that none exists.
 */
public final class SandboxProbes {
  private SandboxProbes() {}

  /** Files a probe would write if it got through. */
  public static List<Path> targets(Path dir) {
    return List.of(dir.resolve("pwned1.csv"), dir.resolve("pwned2.csv"), dir.resolve("x.db"), dir.resolve("y.db"));
  }

  /** Probes that read the host, write files, attach databases, change settings or poison shared state. */
  public static List<String> all(Path dir) {
    String pwned1 = dir.resolve("pwned1.csv").toString();
    String pwned2 = dir.resolve("pwned2.csv").toString();
    String x = dir.resolve("x.db").toString();
    String y = dir.resolve("y.db").toString();
    return List.of(
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM read_csv('/etc/passwd', header = false)",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM read_json_auto('/etc/hostname')",
        "SELECT * FROM read_parquet('/etc/*.parquet')",
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM duckdb_databases()",
        "SELECT path FROM duckdb_databases",
        "SELECT * FROM pragma_database_list",
        "SELECT current_setting('temp_directory')",
        "SELECT * FROM duckdb_settings()",
        "SELECT * FROM pg_catalog.pg_settings",
        "SELECT * FROM (SELECT 1) t, (FROM query('SELECT * FROM duckdb_databases()'))",
        "SELECT (SELECT count(*) FROM read_text('/etc/hostname')) AS n",
        "SELECT $$'$$ AS a; COPY (SELECT 42 AS pwned) TO '" + pwned1 + "'; SELECT 1 AS done --'",
        "SELECT E'\\'' AS a; COPY (SELECT 42 AS pwned) TO '" + pwned2 + "'; SELECT 1 AS done --'",
        "COPY (SELECT 42 AS pwned) TO '" + pwned1 + "'",
        "ATTACH '" + x + "'",
        "SELECT $$'$$ AS a; ATTACH '" + y + "' AS y; SELECT 1 AS done --'",
        "SELECT $$'$$ AS a; CREATE OR REPLACE TEMP VIEW region AS SELECT 999 AS poisoned; SELECT 1 AS done --'",
        "CREATE OR REPLACE TEMP VIEW region AS SELECT 999 AS poisoned",
        "SET lock_configuration = true",
        "SELECT 1 AS a; SET threads = 1",
        "INSTALL httpfs",
        "LOAD httpfs",
        "PRAGMA database_list",
        "SELECT pg_read_file('/etc/hostname')",
        "WITH gone AS (DELETE FROM region RETURNING *) SELECT * FROM gone",
        "SELECT 1; DROP TABLE region");
  }
}
