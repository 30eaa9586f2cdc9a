package dev.penumbra.cli;

import static dev.penumbra.cli.CliRun.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code penumbra query} and {@code penumbra bench query} on TPC-H SF 0.01 in a temporary cache directory. */
class QueryCommandTest {
  @TempDir static Path cache;


  @ParameterizedTest
  @CsvSource({"--priority, urgent", "--scale, 0", "--scale, abc", "--format, xml", "--rows, -1", "--user, ' '"})
  void badQueryOptionsExit2NamingTheOptionAndValue(String option, String value) {
    CliRun r = run("query", "SELECT 1", option, value, "--cache-dir", cache.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains(option).contains("'" + value + "'");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void jsonOutputParsesWithRowsAndTheReport() throws Exception {
    CliRun r = run("query", "SELECT r_name FROM region ORDER BY r_name", "--scale", "0.01", "--format", "json",
        "--priority", "critical", "--user", "ana", "--cache-dir", cache.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertThat(j.path("rowCount").asLong()).isEqualTo(5);
    assertThat(j.path("rows").get(0).get(0).asText()).isEqualTo("AFRICA");
    JsonNode rep = j.path("report");
    assertThat(rep.path("user").asText()).isEqualTo("ana");
    assertThat(rep.path("priority").asText()).isEqualTo("critical");
    assertThat(rep.path("outcome").asText()).isEqualTo("completed");
    assertThat(rep.path("prediction").path("memoryBytes").path("point").asLong()).isPositive();
    assertThat(rep.path("reservation").path("amount").path("memoryBytes").asLong()).isPositive();
    assertThat(rep.path("actual").path("wallNanos").asLong()).isPositive();
    assertThat(rep.path("shadow").path("wallNanos").asLong()).isPositive();
  }

  @Test
  void badSqlExits2WithTheShadowsMessage() {
    CliRun r = run("query", "SELECT nope FROM orders", "--scale", "0.01", "--cache-dir", cache.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("query rejected").contains("nope");
    assertThat(r.out()).isEmpty();
  }

  @ParameterizedTest
  @CsvSource({"--engine, oracle", "--format, csv", "--scale, -1", "--train, 3", "--loads, 0.5;x", "--loads, 11",
      "--sweep-queries, 2"})
  void badBenchOptionsExit2(String option, String value) {
    CliRun r = run("bench", "query", option, value.replace(';', ','), "--cache-dir", cache.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains(option).contains("'" + value.replace(';', ',') + "'");
  }

  @Test
  void benchQueriesFileIsValidated(@TempDir Path dir) throws Exception {
    CliRun missing = run("bench", "query", "--queries", dir.resolve("none.sql").toString());
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("--queries").contains("cannot read");
    Path empty = Files.writeString(dir.resolve("empty.sql"), "SELECT 1;;SELECT 2;");
    CliRun e = run("bench", "query", "--queries", empty.toString());
    assertThat(e.code()).isEqualTo(2);
    assertThat(e.err()).contains("--queries").contains("statement 2 is empty");
    Path bad = Files.writeString(dir.resolve("bad.sql"), "SELECT count(*) FROM orders;\nSELECT x FROM nowhere;");
    CliRun b = run("bench", "query", "--queries", bad.toString(), "--scale", "0.01", "--cache-dir", cache.toString(),
        "--train", "30", "--test", "2", "--burst", "4");
    assertThat(b.code()).isEqualTo(2);
    assertThat(b.err()).contains("--queries").contains("statement 2").contains("nowhere");
  }

  @Test
  void benchJsonPrintsOnlyJson(@TempDir Path dir) throws Exception {
    Path extra = Files.writeString(dir.resolve("extra.sql"),
        "SELECT c_mktsegment, count(*) FROM customer GROUP BY 1;\nSELECT max(l_quantity) FROM lineitem");
    CliRun r = run("bench", "query", "--scale", "0.01", "--cache-dir", cache.toString(), "--format", "json",
        "--train", "30", "--test", "6", "--burst", "8", "--queries", extra.toString(), "--no-shapes",
        "--loads", "0.5,1.5",
        "--sweep-queries", "4", "--html", dir.resolve("sweep.html").toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertThat(j.path("queries")).hasSize(8);
    JsonNode q = j.path("queries").get(7);
    assertThat(q.path("source").asText()).isEqualTo("queries#2");
    assertThat(q.path("actualWallNanos").asLong()).isPositive();
    assertThat(q.path("predictedPeakMemoryBytes").asLong()).isPositive();
    JsonNode s = j.path("summary");
    assertThat(s.path("accuracy").path("memoryQErrorMedian").asDouble()).isGreaterThanOrEqualTo(1.0);
    assertThat(q.path("group").asText()).isEqualTo("--queries");
    assertThat(s.path("accuracyByGroup").path("--queries").path("queries").asInt()).isEqualTo(2);
    assertThat(s.path("accuracyByGroup").has("held-out shapes")).isFalse();
    assertThat(s.path("shadowOverheadMedian").asDouble()).isPositive();
    assertThat(s.path("endToEnd")).hasSize(3);
    assertThat(s.path("endToEnd").get(0).path("mode").asText()).isEqualTo("penumbra");
    assertThat(s.path("targets").has("noMemoryFailures")).isTrue();
    assertThat(s.path("shadowBudget").asDouble()).isEqualTo(0.05);
    assertThat(s.path("loop").path("baseline").asText()).isEqualTo("fifo");
    // The load sweep: each level run by the three modes side by side, and its plots.
    assertThat(s.path("sweep")).hasSize(6);
    assertThat(s.path("sweep").get(0).path("mode").asText()).isEqualTo("penumbra");
    assertThat(s.path("sweep").get(5).path("load").asDouble()).isEqualTo(1.5);
    assertThat(s.path("sweep").get(0).path("completed").asInt() + s.path("sweep").get(0).path("failedMemory").asInt()
        + s.path("sweep").get(0).path("otherFailures").asInt()).isEqualTo(4);
    assertThat(s.path("targets").has("sweepShadowShareAtMost5%")).isTrue();
    assertThat(Files.readString(dir.resolve("sweep.html"))).contains("<svg").contains("critical p99 latency");
    assertThat(r.err()).contains("bench query: training");
  }
}
