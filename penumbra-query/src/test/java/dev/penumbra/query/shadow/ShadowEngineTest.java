package dev.penumbra.query.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.penumbra.query.shadow.QueryRejectedException.Kind;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.duckdb.DuckDBConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ShadowEngineTest {
  static final int ORDERS = 60_000;
  static DuckDBConnection primary;
  static ShadowEngine sqe;

  @BeforeAll
  static void setUp() throws SQLException {
    primary = TpchFixture.primary(ORDERS);
    sqe = ShadowEngine.builder(primary::duplicate).fractions(0.1, 0.01).pollInterval(Duration.ofMillis(100))
        .timeout(Duration.ofMillis(300)).build();
  }

  @AfterAll
  static void tearDown() throws SQLException {
    sqe.close();
    primary.close();
  }

  static long count(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  @Test
  void sampledOrdersKeepAllTheirLineitemsAndTheFractionIsWithinBounds() throws SQLException {
    try (Connection r = sqe.replicaConnection(0.1)) {
      long orders = count(r, "SELECT count(*) FROM orders WHERE o_orderkey < 1000000");
      // Binomial(60000, 0.1): mean 6000, sd ~73; 5 sd either side.
      assertThat(orders).isBetween(5630L, 6370L);
      Map<Long, Long> expected = new HashMap<>();
      try (Statement s = primary.createStatement();
          ResultSet rs = s.executeQuery("SELECT l_orderkey, count(*) FROM lineitem GROUP BY 1")) {
        while (rs.next()) {
          expected.put(rs.getLong(1), rs.getLong(2));
        }
      }
      try (Statement s = r.createStatement();
          ResultSet rs = s.executeQuery("SELECT o_orderkey, count(l_orderkey) FROM orders"
              + " LEFT JOIN lineitem ON l_orderkey = o_orderkey WHERE o_orderkey < 1000000 GROUP BY 1")) {
        int n = 0;
        while (rs.next()) {
          assertThat(rs.getLong(2)).as("lineitems of order %d", rs.getLong(1)).isEqualTo(expected.get(rs.getLong(1)));
          n++;
        }
        assertThat(n).isEqualTo(orders);
      }
      assertThat(count(r, "SELECT count(*) FROM lineitem WHERE l_orderkey NOT IN (SELECT o_orderkey FROM orders)"))
          .isZero();
      assertThat(count(r, "SELECT count(*) FROM customer")).isEqualTo(1500);
      assertThat(count(r, "SELECT count(*) FROM nation")).isEqualTo(25);
    }
    try (Connection r = sqe.replicaConnection(0.01)) {
      assertThat(count(r, "SELECT count(*) FROM orders WHERE o_orderkey < 1000000")).isBetween(480L, 720L);
    }
  }

  @Test
  void insertedRowsReachTheSampleWithinSeconds() throws SQLException {
    try (Statement s = primary.createStatement()) {
      s.execute("INSERT INTO orders SELECT range, 1, DATE '1998-01-01', 10 FROM range(1000000, 1002000)");
      s.execute("INSERT INTO lineitem SELECT o_orderkey, n.range, 1, 1, 1, 1, DATE '1998-01-02' FROM orders,"
          + " range(3) n WHERE o_orderkey >= 1000000");
    }
    long expected = count(primary, "SELECT count(*) FROM orders WHERE o_orderkey >= 1000000"
        + " AND hash(o_orderkey, 'orderkey') % 1000000 < 100000");
    assertThat(expected).isBetween(100L, 320L);
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
      try (Connection r = sqe.replicaConnection(0.1)) {
        assertThat(count(r, "SELECT count(*) FROM orders WHERE o_orderkey >= 1000000")).isEqualTo(expected);
        assertThat(count(r, "SELECT count(*) FROM lineitem WHERE l_orderkey >= 1000000")).isEqualTo(3 * expected);
      }
    });
  }

  @Test
  void shadowMeasuresTheSampleAndExtractsThePlan() {
    ShadowResult r = sqe.shadow("SELECT c_nationkey, count(*), sum(l_extendedprice) FROM lineitem"
        + " JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey"
        + " WHERE l_quantity < 40 GROUP BY c_nationkey ORDER BY 2 DESC");
    assertThat(r.cutOff()).isFalse();
    assertThat(r.sample().cpuNanos()).isPositive();
    assertThat(r.sample().wallNanos()).isPositive();
    assertThat(r.sample().rowsScanned()).isGreaterThan(1000);
    assertThat(r.sample().rowsReturned()).isEqualTo(25);
    assertThat(r.sample().peakMemoryBytes()).isPositive();
    assertThat(r.tables()).containsExactlyInAnyOrder("lineitem", "orders", "customer");
    assertThat(r.effectiveFraction()).isEqualTo(0.1);
    assertThat(r.plan().joins()).isEqualTo(2);
    assertThat(r.plan().aggregates()).isGreaterThanOrEqualTo(1);
    assertThat(r.plan().sorts()).isEqualTo(1);
    assertThat(r.plan().estimatedRowsScanned()).isGreaterThan(60_000);
    // customer is whole, the others sampled: the scan scale lies strictly between 1 and 10
    assertThat(r.scanScale()).isGreaterThan(5).isLessThan(10);
    assertThat(r.memoryScale()).isEqualTo(10.0, org.assertj.core.api.Assertions.within(1e-9));
    assertThat(r.shadowWallNanos()).isGreaterThanOrEqualTo(r.sample().wallNanos());
    assertThat(r.shadowCpuNanos()).isPositive();
  }

  @Test
  void aSampleGivesWayAsSoonAsItsStopSignalSaysSo() {
    String slow = "SELECT count(*) FROM lineitem a, lineitem b WHERE a.l_quantity + b.l_quantity > 97";
    java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
    // Work arrives while the sample runs (the third time the signal is asked): cut off long before its 2 s cap.
    long t0 = System.nanoTime();
    ShadowResult stopped = sqe.shadow(slow, Duration.ofSeconds(2), () -> asked.incrementAndGet() > 2);
    assertThat(stopped.cutOff()).isTrue();
    assertThat(stopped.sample()).isNull();
    assertThat(stopped.plan().joins()).as("the plan still stands").isEqualTo(1);
    assertThat(asked.get()).isGreaterThan(2);
    assertThat(System.nanoTime() - t0).isLessThan(Duration.ofMillis(1500).toNanos());
    // Never stopped: the sample is measured as without a signal.
    ShadowResult whole = sqe.shadow("SELECT count(*) FROM orders WHERE o_totalprice > 1000", Duration.ofSeconds(2), () -> false);
    assertThat(whole.cutOff()).isFalse();
    assertThat(whole.sample().rowsScanned()).isPositive();
    // Work already waiting: the sample does not start.
    ShadowResult none = sqe.shadow("SELECT count(*) FROM orders", Duration.ofSeconds(2), () -> true);
    assertThat(none.cutOff()).isTrue();
    assertThat(none.sample()).isNull();
  }

  @Test
  void aSlowShadowIsCutOff() {
    long t0 = System.nanoTime();
    ShadowResult r = sqe.shadow("SELECT count(*) FROM lineitem a, lineitem b WHERE a.l_quantity + b.l_quantity > 97");
    assertThat(r.cutOff()).isTrue();
    assertThat(r.sample()).isNull();
    assertThat(r.plan().joins()).isEqualTo(1);
    assertThat(System.nanoTime() - t0).isLessThan(Duration.ofSeconds(3).toNanos());
  }

  @Test
  void badSqlIsRejectedWithItsKind() {
    assertThatThrownBy(() -> sqe.shadow("SELEC * FROM orders"))
        .isInstanceOfSatisfying(QueryRejectedException.class, e -> {
          assertThat(e.kind()).isEqualTo(Kind.SYNTAX);
          assertThat(e.engineMessage()).contains("syntax error");
        });
    assertThatThrownBy(() -> sqe.shadow("SELECT * FROM nope"))
        .isInstanceOfSatisfying(QueryRejectedException.class,
            e -> assertThat(e.kind()).isEqualTo(Kind.UNKNOWN_OBJECT));
    assertThatThrownBy(() -> sqe.shadow("SELECT o_nope FROM orders"))
        .isInstanceOfSatisfying(QueryRejectedException.class,
            e -> assertThat(e.kind()).isEqualTo(Kind.UNKNOWN_OBJECT));
    assertThatThrownBy(() -> sqe.shadow("SELECT o_orderkey + 'abc' FROM orders"))
        .isInstanceOfSatisfying(QueryRejectedException.class, e -> assertThat(e.kind()).isEqualTo(Kind.TYPE));
    assertThatThrownBy(() -> sqe.shadow("SELECT 'abc'::INTEGER FROM orders"))
        .isInstanceOfSatisfying(QueryRejectedException.class, e -> assertThat(e.kind()).isEqualTo(Kind.TYPE));
  }

  @Test
  void writesAreRejectedAndNothingIsDone() throws SQLException {
    long before = count(primary, "SELECT count(*) FROM region");
    assertThatThrownBy(() -> sqe.shadow("INSERT INTO region VALUES (9, 'X')"))
        .isInstanceOfSatisfying(QueryRejectedException.class,
            e -> assertThat(e.kind()).isEqualTo(Kind.NOT_READ_ONLY));
    assertThatThrownBy(() -> sqe.shadow("SELECT 1; DELETE FROM region"))
        .isInstanceOfSatisfying(QueryRejectedException.class,
            e -> assertThat(e.kind()).isEqualTo(Kind.NOT_READ_ONLY));
    assertThat(count(primary, "SELECT count(*) FROM region")).isEqualTo(before);
    assertThat(sqe.shadow("SELECT ';' AS x; ").sample().rowsReturned()).isEqualTo(1);
  }

  @Test
  void badOptionsNameTheValue() {
    assertThatThrownBy(() -> ShadowEngine.builder(primary::duplicate).fractions(0.0))
        .hasMessageContaining("fraction must be in (0, 1], was 0.0");
    assertThatThrownBy(() -> ShadowEngine.builder(primary::duplicate).maxConcurrent(0))
        .hasMessageContaining("maxConcurrent must be >= 1, was 0");
    assertThatThrownBy(() -> sqe.shadow("SELECT 1", 0.5)).hasMessageContaining("fraction 0.5");
  }

  @Test
  void anOperatorProfilerOfThePrimaryGivesTheOperatorsAndItsFailureLeavesNone() throws SQLException {
    ScaledProfile fromPrimary = new ScaledProfile(1e6, 1 << 20, 0, 10, 10, 1, 0, 0, 0, 0, 0, 100, false, 0, 1);
    String sql = "SELECT o_custkey, count(*) FROM orders GROUP BY o_custkey";
    try (ShadowEngine withProfile = ShadowEngine.builder(primary::duplicate).fractions(0.1)
            .pollInterval(Duration.ZERO).maxConcurrent(1).operatorProfiler((q, cap) -> {
              assertThat(q).isEqualTo(sql);
              assertThat(cap).isPositive();
              return fromPrimary;
            }).build();
        ShadowEngine failing = ShadowEngine.builder(primary::duplicate).fractions(0.1)
            .pollInterval(Duration.ZERO).maxConcurrent(1).operatorProfiler((q, cap) -> {
              throw new SQLException("canceling statement due to statement timeout");
            }).build()) {
      ShadowResult r = withProfile.shadow(sql);
      assertThat(r.operators()).isSameAs(fromPrimary);
      assertThat(r.sample()).as("the DuckDB sample still runs").isNotNull();
      ShadowResult f = failing.shadow(sql);
      assertThat(f.operators()).isNull();
      assertThat(f.sample()).isNotNull();
    }
    assertThatThrownBy(() -> ShadowEngine.builder(primary::duplicate).operatorProfiler(null))
        .hasMessageContaining("operatorProfiler");
  }
}
