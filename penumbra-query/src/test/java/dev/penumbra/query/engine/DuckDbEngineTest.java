package dev.penumbra.query.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.query.tpch.TpchDatabase;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DuckDbEngineTest extends EngineContract {
  @TempDir static Path dir;
  static DuckDbEngine engine;

  @BeforeAll
  static void open() throws Exception {
    TpchDatabase db = TpchDatabase.duckdb(dir.resolve("tpch.duckdb"), SCALE, 42);
    engine = DuckDbEngine.open(db.file(), 2, 1000);
  }

  @AfterAll
  static void close() {
    engine.close();
  }

  @Override
  PrimaryEngine engine() {
    return engine;
  }

  @Override
  String threadsSettingSql() {
    return "SELECT current_setting('threads') AS threads";
  }

  @Override
  String expectedThreadsSetting(int threads) {
    return Integer.toString(threads);
  }

  @Test
  void aBigSortUnderTinyMemorySpillsOrFailsForMemory() {
    QueryResult r = bigSortWithTinyMemory();
    assertThat(r.outcome()).as(r.error().orElse("")).isIn(Outcome.SPILLED, Outcome.FAILED_MEMORY);
    if (r.outcome() == Outcome.FAILED_MEMORY) {
      assertThat(r.error()).get().asString().contains("Out of Memory");
    } else {
      assertThat(r.profile().spilledBytes()).isPositive();
    }
  }

  @Test
  void aTextMarkedCheckedSkipsTheParserOnceAndTheLockedInstanceStillRefusesTheHost() {
    String probe = "SELECT * FROM read_text('/etc/hostname')";
    engine.checked(probe);
    QueryResult unparsed = engine.execute(probe, ROOMY, TIMEOUT);
    assertThat(unparsed.outcome()).isEqualTo(Outcome.SQL_ERROR);
    // Not the parser's refusal: the instance's own lock (external access off) stopped it.
    assertThat(unparsed.error()).get().asString().doesNotContain("not allowed in a query");
    QueryResult parsed = engine.execute(probe, ROOMY, TIMEOUT);
    assertThat(parsed.outcome()).isEqualTo(Outcome.SQL_ERROR);
    assertThat(parsed.error()).as("the mark covered one run").get().asString()
        .contains("not allowed in a query: table function read_text()");
  }

  @Test
  void queriesRunOnTheEnginesOwnThreadsNotTheCallers() {
    QueryResult r = engine.execute("SELECT 1 AS one", ROOMY, TIMEOUT);
    assertThat(r.outcome()).isEqualTo(Outcome.COMPLETED);
    assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
        .anyMatch(n -> n.startsWith("duckdb-query-"));
  }
}
