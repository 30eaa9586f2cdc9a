package dev.penumbra.query.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.penumbra.query.tpch.Tpch;
import dev.penumbra.query.tpch.TpchDatabase;
import dev.penumbra.query.tpch.TpchTable;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs against a throwaway PostgreSQL; skips when the Debian postgresql binaries are not installed. */
class PostgresEngineTest extends EngineContract {
  @TempDir static Path dir;
  static LocalPostgres server;
  static PostgresEngine engine;

  @BeforeAll
  static void start() throws Exception {
    Optional<Path> bin = LocalPostgres.findBinaries();
    assumeTrue(bin.isPresent(), "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin:"
        + " apt-get install postgresql to run the PostgreSQL engine tests");
    server = LocalPostgres.start(bin.get());
    try (Connection c = server.connect()) {
      assertThat(Tpch.loadPostgres(c, SCALE, 42)).isTrue();
      assertThat(Tpch.loadPostgres(c, SCALE, 42)).as("second load reuses").isFalse();
    }
    engine = PostgresEngine.open(server.jdbcUrl(), 2, 1000);
  }

  @AfterAll
  static void stop() {
    if (engine != null) {
      engine.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Override
  PrimaryEngine engine() {
    return engine;
  }

  @Override
  String threadsSettingSql() {
    return "SELECT current_setting('max_parallel_workers_per_gather') AS workers";
  }

  @Override
  String expectedThreadsSetting(int threads) {
    return Integer.toString(threads - 1);
  }

  @Test
  void loadsTheSameRowsAsDuckDb() throws Exception {
    TpchDatabase db = TpchDatabase.duckdb(dir.resolve("tpch.duckdb"), SCALE, 42);
    Map<TpchTable, Long> duck;
    try (Connection c = db.connect(true)) {
      duck = Tpch.rowCounts(c);
    }
    try (Connection c = server.connect()) {
      assertThat(Tpch.rowCounts(c)).isEqualTo(duck);
    }
  }

  @Test
  void workloadReturnsTheSameRowCountsAsDuckDb() throws Exception {
    TpchDatabase db = TpchDatabase.duckdb(dir.resolve("tpch.duckdb"), SCALE, 42);
    try (DuckDbEngine duck = DuckDbEngine.open(db.file(), 1, 10)) {
      assertThat(runWorkload(engine)).isEqualTo(runWorkload(duck));
    }
  }

  @Test
  void countsBuffersAsBytesRead() {
    QueryResult r = engine.execute("SELECT count(*) FROM lineitem", ROOMY, TIMEOUT);
    assertThat(r.profile().bytesRead()).isGreaterThan(1L << 20);
    assertThat(r.profile().rowsScanned()).isGreaterThan(50_000);
  }

  @Test
  void aBigSortUnderTinyMemorySpillsToTempFiles() {
    // PostgreSQL never fails a sort for work_mem: it switches to an external merge sort on disk.
    QueryResult r = bigSortWithTinyMemory();
    assertThat(r.outcome()).as(r.error().orElse("")).isEqualTo(Outcome.SPILLED);
    assertThat(r.profile().spilledBytes()).isGreaterThan(1L << 20);
    QueryResult roomy = engine.execute("SELECT l_orderkey, l_linenumber, l_comment FROM lineitem"
        + " ORDER BY l_comment, l_orderkey, l_linenumber", ROOMY, TIMEOUT);
    assertThat(roomy.outcome()).isEqualTo(Outcome.COMPLETED);
    assertThat(roomy.profile().peakMemoryBytes()).isGreaterThan(1L << 20);
    assertThat(roomy.rowCount()).isEqualTo(r.rowCount());
    // Memory is what the sort needed, on disk or not: the spilled run counts its work_mem and what it wrote, which
    // comes within 2x of what the same sort held in memory (the disk form is more compact), not 0.
    assertThat(r.profile().peakMemoryBytes()).isBetween(roomy.profile().peakMemoryBytes() / 2,
        roomy.profile().peakMemoryBytes() * 2);
  }

  @Override
  boolean refuses(String probe) {
    // Any role may read pg_settings; a role without pg_read_all_settings sees no paths there (checked below).
    return !probe.contains("pg_settings");
  }

  @Test
  void queriesRunAsARoleThatSeesNoHostPathsAndStartsFromAFreshSession() {
    QueryResult who = engine.execute("SELECT current_user, (SELECT count(*) FROM pg_settings"
        + " WHERE name IN ('data_directory', 'config_file', 'hba_file')) AS paths", ROOMY, TIMEOUT);
    assertThat(who.outcome()).as(who.error().orElse("")).isEqualTo(Outcome.COMPLETED);
    assertThat(who.rows().get(0)).containsExactly(PostgresEngine.READER, 0L);
    // A session setting one query changed is gone for the next: search_path would hide the TPC-H tables.
    QueryResult set = engine.execute("SELECT set_config('search_path', 'pg_catalog', false),"
        + " set_config('default_transaction_read_only', 'off', false)", ROOMY, TIMEOUT);
    assertThat(set.outcome()).as(set.error().orElse("")).isEqualTo(Outcome.COMPLETED);
    for (int i = 0; i < 4; i++) {
      QueryResult r = engine.execute("SELECT count(*) FROM region", ROOMY, TIMEOUT);
      assertThat(r.outcome()).as(r.error().orElse("")).isEqualTo(Outcome.COMPLETED);
      QueryResult ro = engine.execute("SELECT current_setting('transaction_read_only')", ROOMY, TIMEOUT);
      assertThat(ro.rows().get(0)).containsExactly("on");
    }
  }
}
