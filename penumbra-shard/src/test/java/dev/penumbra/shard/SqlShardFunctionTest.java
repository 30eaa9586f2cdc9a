package dev.penumbra.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SqlShardFunctionTest {

  static final String QUERY = "SELECT g, sum(v) AS total, count(*) AS n FROM t WHERE {keys} GROUP BY g";

  @TempDir
  Path dir;

  private String database() throws Exception {
    Path file = dir.resolve("data.duckdb");
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + file); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t AS SELECT range AS k, 'g' || (range * 7919 % 13) AS g,"
          + " CAST((range * 104729 % 100000) / 100.0 AS DECIMAL(12,2)) AS v FROM range(0, 20000)");
    }
    return file.toString();
  }

  @ParameterizedTest
  @EnumSource(value = ShardPolicy.class, names = {"KEY_RANGE", "HASH", "PREDICTED"})
  void mergedShardedAnswerEqualsTheUnshardedOne(ShardPolicy policy) throws Exception {
    String db = database();
    Ledger ledger = Ledger.inMemory(Clock.systemUTC());
    List<SqlShardFunction> functions = new ArrayList<>();
    try (ShardHistory history = ShardHistory.inMemory(0.05)) {
      ShardEngine.Builder b = ShardEngine.builder(ledger, history);
      List<InProcessBackend> backends = new ArrayList<>();
      for (String id : List.of("duck-1", "duck-2")) {
        SqlShardFunction f = new SqlShardFunction(db, QUERY, "k", 1);
        functions.add(f);
        InProcessBackend be = InProcessBackend.of(id, Resources.of(2000, 1L << 30), 2, f);
        backends.add(be);
        b.backend(be);
      }
      try (ShardEngine engine = b.targetShard(java.time.Duration.ofMillis(100)).build()) {
        ShardRequest req = new ShardRequest("sql-" + policy.label(), "sum-by-g", Priority.STANDARD,
            List.of(Unit.of("scan", "sum-by-g", KeyRange.of(0, 20000))));
        RequestResult r = engine.submit(req, policy, 8).get(60, TimeUnit.SECONDS);
        List<List<List<Object>>> parts = new ArrayList<>();
        for (ShardReport s : r.shards()) {
          @SuppressWarnings("unchecked")
          List<List<Object>> rows = (List<List<Object>>) s.value();
          parts.add(rows);
        }
        List<List<Object>> merged = SqlShardFunction.merge(parts, 1);
        List<List<Object>> whole = SqlShardFunction.sorted(functions.get(0).unsharded(), 1);
        assertThat(merged).hasSize(13).isEqualTo(whole);
        assertThat(r.shards().size()).isGreaterThan(1);
      } finally {
        backends.forEach(InProcessBackend::close);
      }
      assertThat(ledger.snapshot().reservations()).noneMatch(Reservation::isLive);
    } finally {
      for (SqlShardFunction f : functions) {
        f.close();
      }
    }
  }

  @Test
  void rejectsAQueryWithoutTheKeysPlaceholder() throws Exception {
    String db = database();
    assertThatThrownBy(() -> new SqlShardFunction(db, "SELECT 1", "k", 1)).hasMessageContaining("{keys}");
    assertThatThrownBy(() -> new SqlShardFunction(db, QUERY, "k; drop", 1)).hasMessageContaining("'k; drop'");
  }
}
