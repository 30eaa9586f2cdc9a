package dev.penumbra.query.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Resources;
import dev.penumbra.query.workload.QuerySpec;
import dev.penumbra.query.workload.QueryTemplate;
import dev.penumbra.query.workload.Workload;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contract every primary engine meets; subclasses provide an engine over TPC-H SF 0.01 (seed 42). */
abstract class EngineContract {
  static final double SCALE = 0.01;
  static final Resources ROOMY = Resources.of(2000, 512L << 20);
  static final Duration TIMEOUT = Duration.ofSeconds(30);

  abstract PrimaryEngine engine();

  /** The SQL that reads the engine's applied parallelism setting, and the value expected for 2 cores. */
  abstract String threadsSettingSql();

  abstract String expectedThreadsSetting(int threads);

  /** Whether the engine refuses this probe outright (an engine may instead answer it harmlessly). */
  boolean refuses(String probe) {
    return true;
  }

  /** Row counts of every template instantiated with seed 1, in template order. */
  static Map<String, Long> runWorkload(PrimaryEngine engine) {
    Workload w = Workload.tpch(SCALE);
    Map<String, Long> counts = new LinkedHashMap<>();
    for (QueryTemplate t : w.templates()) {
      QuerySpec q = t.instantiate(w.params(), new Random(1));
      QueryResult r = engine.execute(q.sql(), ROOMY, TIMEOUT);
      assertThat(r.outcome()).as(t.name() + ": " + r.error().orElse("") + "\n" + q.sql())
          .isEqualTo(Outcome.COMPLETED);
      assertThat(r.profile().wallNanos()).as(t.name()).isPositive();
      assertThat(r.profile().rowsReturned()).as(t.name()).isEqualTo(r.rowCount());
      counts.put(t.name(), r.rowCount());
    }
    return counts;
  }

  @Test
  void everyWorkloadTemplateRuns() {
    Map<String, Long> counts = runWorkload(engine());
    // Point lookups find their row; most templates return something at SF 0.01.
    assertThat(counts.get("order_by_key")).isEqualTo(1);
    assertThat(counts.get("customer_by_key")).isEqualTo(1);
    assertThat(counts.get("part_suppliers")).isEqualTo(4);
    assertThat(counts.values().stream().filter(n -> n > 0).count()).isGreaterThan(counts.size() * 3 / 4);
  }

  @Test
  void measuresWhatAScanReadsAndReturns() {
    QueryResult r = engine().execute("SELECT l_orderkey, l_comment FROM lineitem WHERE l_quantity < 10",
        ROOMY, TIMEOUT);
    assertThat(r.outcome()).isEqualTo(Outcome.COMPLETED);
    assertThat(r.rowCount()).isGreaterThan(5000);
    assertThat(r.rows()).hasSize(1000);
    assertThat(r.columns()).containsExactly("l_orderkey", "l_comment");
    assertThat(r.profile().rowsScanned()).isGreaterThanOrEqualTo(r.rowCount());
    assertThat(r.profile().cpuNanos()).isPositive();
    assertThat(r.profile().spilledBytes()).isZero();
  }

  @Test
  void appliesTheReservedThreads() {
    for (int cores : new int[] {1, 2}) {
      QueryResult r = engine().execute(threadsSettingSql(), Resources.of(cores * 1000L - 500, 64L << 20), TIMEOUT);
      assertThat(r.outcome()).isEqualTo(Outcome.COMPLETED);
      assertThat(r.rows().getFirst().getFirst().toString()).isEqualTo(expectedThreadsSetting(cores));
    }
  }

  @Test
  void aSqlErrorIsReportedWithTheEngineMessageAndTheEngineStaysUsable() {
    for (int i = 0; i < 3; i++) {
      QueryResult bad = engine().execute("SELECT no_such_column FROM orders", ROOMY, TIMEOUT);
      assertThat(bad.outcome()).isEqualTo(Outcome.SQL_ERROR);
      assertThat(bad.error()).get().asString().containsIgnoringCase("no_such_column");
      assertThat(bad.succeeded()).isFalse();
    }
    assertThat(engine().execute("SELECT count(*) FROM orders", ROOMY, TIMEOUT).rows().getFirst().getFirst())
        .hasToString("15000");
  }

  @Test
  void aTimeoutCancelsTheQuery() {
    long t0 = System.nanoTime();
    QueryResult r = engine().execute("SELECT count(*) FROM lineitem a, lineitem b"
        + " WHERE a.l_orderkey + b.l_partkey = a.l_suppkey", ROOMY, Duration.ofMillis(300));
    assertThat(r.outcome()).as(r.error().orElse("")).isEqualTo(Outcome.TIMED_OUT);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
    assertThat(engine().execute("SELECT 1 AS one", ROOMY, TIMEOUT).outcome()).isEqualTo(Outcome.COMPLETED);
  }

  /** A sort of all lineitem rows with their comments (~6 MB) under a tiny memory reservation. */
  QueryResult bigSortWithTinyMemory() {
    return engine().execute("SELECT l_orderkey, l_linenumber, l_comment FROM lineitem"
        + " ORDER BY l_comment, l_orderkey, l_linenumber", Resources.of(1000, 1L << 20), TIMEOUT);
  }

  @Test
  void rejectsBadArguments() {
    assertThatThrownBy(() -> engine().execute(" ", ROOMY, TIMEOUT))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sql");
    assertThatThrownBy(() -> engine().execute("SELECT 1", Resources.cpu(1000), TIMEOUT))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("memoryBytes").hasMessageContaining("0");
    assertThatThrownBy(() -> engine().execute("SELECT 1", ROOMY, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout");
  }

  @Test
  void theEngineItselfRefusesSandboxProbes(@TempDir Path dir) {
    // The gateway's shadow rejects these first; the engine holds on its own when a caller skips the shadow.
    for (String probe : dev.penumbra.query.SandboxProbes.all(dir)) {
      if (!refuses(probe)) {
        continue;
      }
      QueryResult r = engine().execute(probe, ROOMY, TIMEOUT);
      assertThat(r.outcome()).as(probe + " -> " + r.rows()).isEqualTo(Outcome.SQL_ERROR);
    }
    for (Path target : dev.penumbra.query.SandboxProbes.targets(dir)) {
      assertThat(target).as("written by a probe").doesNotExist();
    }
    QueryResult region = engine().execute("SELECT * FROM region ORDER BY 1", ROOMY, TIMEOUT);
    assertThat(region.outcome()).as(region.error().orElse("")).isEqualTo(Outcome.COMPLETED);
    assertThat(region.columns()).first().isEqualTo("r_regionkey");
    assertThat(region.rowCount()).isEqualTo(5);
  }
}
