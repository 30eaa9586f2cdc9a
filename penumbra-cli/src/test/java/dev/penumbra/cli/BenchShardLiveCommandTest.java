package dev.penumbra.cli;

import static dev.penumbra.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** The live shard benchmark's options and a small in-process run; the full run's figures are in docs/benchmarks.md. */
class BenchShardLiveCommandTest {

  @Test
  void badOptionsExitWithTwoNamingOptionAndValue() {
    CliRun r = run("bench", "shard-live", "--bootstrap", "10.1.2.3:9092");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--bootstrap").contains("10.1.2.3:9092").contains("loopback");
    assertThat(run("bench", "shard-live", "--loads", "fast").err()).contains("--loads").contains("fast");
    assertThat(run("bench", "shard-live", "--loads", "5").err()).contains("each load must be in (0, 4], was 5.0");
    assertThat(run("bench", "shard-live", "--workers", "0").err()).contains("--workers must be in [1, 16], was 0");
    assertThat(run("bench", "shard-live", "--format", "csv").err()).contains("--format").contains("csv");
  }

  @Test
  void aSmallInProcessRunAnswersEveryJobExactlyUnderBothPolicies() throws Exception {
    CliRun r = run("bench", "shard-live", "--jobs", "4", "--loads", "1.0", "--key-micros", "20", "--format", "json");
    assertThat(r.code()).as(r.err()).isEqualTo(0);
    JsonNode rows = new ObjectMapper().readTree(r.out()).get("rows");
    assertThat(rows).hasSize(2);
    for (JsonNode row : rows) {
      assertThat(row.get("transport").asText()).isEqualTo("in-process");
      assertThat(row.get("failed").asInt()).as(row.toString()).isZero();
      assertThat(row.get("jobsWrong").asInt()).as(row.toString()).isZero();
      assertThat(row.get("duplicates").asInt()).isZero();
      assertThat(row.get("reservedCoreSeconds").asDouble()).isPositive();
    }
    assertThat(rows.findValuesAsText("policy")).containsExactly("uniform", "penumbra");
  }
}
