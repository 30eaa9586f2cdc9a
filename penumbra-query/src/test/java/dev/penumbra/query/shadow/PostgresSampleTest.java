package dev.penumbra.query.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.penumbra.core.Resources;
import dev.penumbra.query.engine.LocalPostgres;
import dev.penumbra.query.engine.Outcome;
import dev.penumbra.query.engine.PostgresEngine;
import dev.penumbra.query.engine.QueryResult;
import dev.penumbra.query.tpch.Tpch;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL sample and its per-operator profile, on a real server (TPC-H SF 0.01, a 10% sample); skips when the
 * Debian postgresql binaries are not installed.
 */
class PostgresSampleTest {
  static final Duration CAP = Duration.ofSeconds(20);
  static final Resources ROOMY = Resources.of(1000, 256L << 20);
  static LocalPostgres server;
  static PostgresSample sample;
  static PostgresEngine full;

  @BeforeAll
  static void start() throws Exception {
    Optional<Path> bin = LocalPostgres.findBinaries();
    assumeTrue(bin.isPresent(), "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin:"
        + " apt-get install postgresql to run the PostgreSQL sample tests");
    server = LocalPostgres.start(bin.get());
    try (Connection c = server.connect()) {
      Tpch.loadPostgres(c, 0.01, 42);
    }
    sample = PostgresSample.open(server.jdbcUrl(), 0.1, SamplingRule.tpch(), 1);
    full = PostgresEngine.open(server.jdbcUrl(), 1, 10);
  }

  @AfterAll
  static void stop() {
    if (full != null) {
      full.close();
    }
    if (sample != null) {
      sample.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void keepsAboutTheFractionOfOrdersEachWithAllItsLines() throws Exception {
    try (Connection c = server.connect(); Statement st = c.createStatement()) {
      long orders = count(st, "SELECT count(*) FROM " + sample.schema() + ".orders");
      // 15,000 orders at SF 0.01: 1,500 expected, sigma about 37.
      assertThat(orders).isBetween(1_500L - 5 * 37, 1_500L + 5 * 37);
      assertThat(count(st, "SELECT count(*) FROM " + sample.schema() + ".lineitem s WHERE NOT EXISTS"
          + " (SELECT 1 FROM " + sample.schema() + ".orders o WHERE o.o_orderkey = s.l_orderkey)")).isZero();
      assertThat(count(st, "SELECT count(*) FROM " + sample.schema() + ".lineitem")).isEqualTo(count(st,
          "SELECT count(*) FROM lineitem WHERE l_orderkey IN (SELECT o_orderkey FROM " + sample.schema()
              + ".orders)"));
      assertThat(count(st, "SELECT count(*) FROM " + sample.schema() + ".nation")).isEqualTo(25);
    }
    assertThat(sample.rowsPerKey().get("lineitem")).isBetween(3.5, 4.5);
  }

  @Test
  void aSecondOpenReusesTheSample() throws Exception {
    try (PostgresSample again = PostgresSample.open(server.jdbcUrl(), 0.1, SamplingRule.tpch(), 1)) {
      assertThat(again.schema()).isEqualTo(sample.schema());
      assertThat(again.rowsPerKey()).isEqualTo(sample.rowsPerKey());
    }
  }

  @Test
  void sampleRunsSeeOnlyTheSampleAndChangeNothing() throws Exception {
    assertThatThrownBy(() -> sample.profile("SELECT count(*) FROM public.orders", CAP))
        .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
    assertThatThrownBy(() -> sample.profile("DELETE FROM orders", CAP))
        .isInstanceOf(SQLException.class).hasMessageContaining("read-only");
    // A setting the query changes is rolled back with its transaction.
    sample.explain("SELECT set_config('search_path', 'pg_catalog', false)", CAP);
    assertThat(sample.profile("SELECT count(*) FROM orders", CAP)).isNotNull();
    try (Connection c = server.connect(); Statement st = c.createStatement()) {
      assertThat(count(st, "SELECT count(*) FROM " + sample.schema() + ".orders")).isPositive();
    }
  }

  @Test
  void badArgumentsAreNamed() {
    assertThatThrownBy(() -> PostgresSample.open(server.jdbcUrl(), 0, SamplingRule.tpch(), 1))
        .hasMessageContaining("fraction").hasMessageContaining("0.0");
    assertThatThrownBy(() -> PostgresSample.open(server.jdbcUrl(), 0.1, SamplingRule.tpch(), 0))
        .hasMessageContaining("sessions");
    assertThatThrownBy(() -> sample.profile(" ", CAP)).hasMessageContaining("sql");
    assertThatThrownBy(() -> sample.profile("SELECT 1", Duration.ZERO)).hasMessageContaining("cap");
  }

  @Test
  void aScanGrowsByTheFractionAndHoldsNothing() throws Exception {
    ScaledProfile p = sample.profile("SELECT count(*) FROM lineitem WHERE l_quantity < 10", CAP);
    assertThat(p.cpuGrowth()).isBetween(8.0, 12.0);
    assertThat(p.workingBytes()).isZero();
    assertThat(p.pageShare()).isZero();
    assertThat(p.scanShare()).isGreaterThan(0.3);
  }

  @Test
  void aHashAggregateGrowsByItsGroupsNotItsRows() throws Exception {
    ScaledProfile few = sample.profile(
        "SELECT l_returnflag, l_linestatus, sum(l_quantity) FROM lineitem GROUP BY 1, 2", CAP);
    ScaledProfile perOrder = sample.profile("SELECT l_orderkey, sum(l_quantity) FROM lineitem GROUP BY 1", CAP);
    assertThat(few.memoryGrowth()).isLessThan(1.5);
    assertThat(perOrder.memoryGrowth()).isBetween(7.0, 13.0);
    assertThat(perOrder.workingBytes()).isGreaterThan(few.workingBytes() * 10);
  }

  @Test
  void aTopNStaysBoundedWhileAFullSortGrows() throws Exception {
    ScaledProfile top = sample.profile("SELECT l_orderkey, l_comment FROM lineitem ORDER BY l_comment LIMIT 10",
        CAP);
    ScaledProfile all = sample.profile("SELECT l_orderkey, l_comment FROM lineitem ORDER BY l_comment", CAP);
    assertThat(top.workingBytes()).isLessThan(1 << 20);
    assertThat(top.boundedShare()).isPositive();
    assertThat(all.memoryGrowth()).isBetween(8.0, 12.0);
    assertThat(all.cpuGrowth()).isGreaterThan(top.cpuGrowth());
  }

  @Test
  void scaledMemoryIsNearWhatTheFullRunMeasures() throws Exception {
    for (String sql : new String[] {
        "SELECT l_orderkey, l_comment FROM lineitem ORDER BY l_comment",
        "SELECT l_orderkey, sum(l_quantity) FROM lineitem GROUP BY 1",
        "SELECT o_orderkey, o_totalprice, l_linenumber FROM orders JOIN lineitem ON l_orderkey = o_orderkey"
            + " WHERE l_quantity > 20 ORDER BY o_totalprice, l_linenumber"}) {
      ScaledProfile p = sample.profile(sql, CAP);
      QueryResult r = full.execute(sql, ROOMY, CAP);
      assertThat(r.outcome()).as(sql).isEqualTo(Outcome.COMPLETED);
      double ratio = p.workingBytes() / Math.max(1, r.profile().peakMemoryBytes());
      assertThat(ratio).as(sql + ": scaled " + p.workingBytes() + " vs measured " + r.profile().peakMemoryBytes())
          .isBetween(0.5, 2.0);
    }
  }

  private static long count(Statement st, String sql) throws SQLException {
    try (ResultSet r = st.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  @Test
  void aRunThatOutlastsItsCapGivesALowerBoundGrownByItsPlan() throws Exception {
    // A lookup of lineitem by part key per line (no index on l_partkey): quadratic in the rows, cancelled at 1 ms
    // (an idle machine runs the whole sample in about 40 ms, so a longer cap would not always cut it off).
    String sql = "SELECT count(*) FROM lineitem l1 WHERE l_quantity > (SELECT avg(l_quantity) FROM lineitem l2"
        + " WHERE l2.l_partkey = l1.l_partkey)";
    long t0 = System.nanoTime();
    ScaledProfile p = sample.profile(sql, Duration.ofMillis(1));
    long took = System.nanoTime() - t0;
    assertThat(p.cutOff()).isTrue();
    // Both the outer rows and each lookup's rows grow 10x.
    assertThat(p.cpuGrowth()).isEqualTo(100);
    assertThat(p.cpuNanos()).isGreaterThanOrEqualTo(100 * 1e6);
    assertThat(took).as("the plan alone runs nothing").isLessThan(Duration.ofSeconds(5).toNanos());
    assertThat(sample.profile("SELECT count(*) FROM orders", CAP).cutOff()).isFalse();
  }
}
