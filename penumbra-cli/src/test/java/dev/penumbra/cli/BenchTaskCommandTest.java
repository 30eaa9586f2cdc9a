package dev.penumbra.cli;

import static dev.penumbra.cli.CliRun.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** The task benchmark's options and output; the full run's figures are in docs/benchmarks.md. */
class BenchTaskCommandTest {


  @Test
  void badOptionsExitWithTwoNamingOptionAndValue() {
    CliRun r = run("bench", "task", "--concurrency", "0");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--concurrency").contains("'0'").contains("must be in 1..256");
    assertThat(r.out()).isEmpty();
    assertThat(run("bench", "task", "--format", "csv").err()).contains("--format").contains("csv");
    assertThat(run("bench", "task", "--interval", "5000").err()).contains("--interval").contains("5000");
    assertThat(run("bench", "task", "--grace", "-1").err()).contains("--grace").contains("-1");
    assertThat(run("bench", "task", "--loads", "0.5,x").err()).contains("--loads").contains("'x' is not a number");
    assertThat(run("bench", "task", "--loads", "5").err()).contains("--loads").contains("(0, 4]");
    assertThat(run("bench", "task", "--sweep-tasks", "0").err()).contains("--sweep-tasks").contains("'0'");
    assertThat(run("bench", "task", "--sweep-seeds", "7,x").err()).contains("--sweep-seeds")
        .contains("'x' is not a whole number");
    assertThat(run("bench", "task", "--sweep-seeds", "7,7").err()).contains("--sweep-seeds").contains("twice");
    assertThat(run("bench", "task", "--sweep-rounds", "0").err()).contains("--sweep-rounds").contains("'0'")
        .contains("must be in 1..1000");
  }

  @Test
  void aSmallJsonRunPrintsOnlyJsonWithEveryModeAndTarget() throws Exception {
    CliRun r = run("bench", "task", "--tasks", "12", "--warmup", "6", "--concurrency", "4", "--overhead-tasks", "20",
        "--overhead-seconds", "1", "--loads", "0.5,1.5", "--sweep-tasks", "9", "--sweep-seeds", "7,8", "--format",
        "json");
    assertThat(r.code()).isEqualTo(0);
    JsonNode root = new ObjectMapper().readTree(r.out());
    assertThat(root.get("modes").fieldNames()).toIterable().containsExactly("penumbra", "reactive", "static");
    for (JsonNode m : root.get("modes")) {
      assertThat(m.get("tasks").asInt()).isEqualTo(12);
      assertThat(m.get("failed").asInt()).isZero();
      assertThat(m.get("latencyP99Ms").asDouble()).isGreaterThanOrEqualTo(m.get("latencyP50Ms").asDouble());
      assertThat(m.get("hits").asLong() + m.get("misses").asLong()).isGreaterThanOrEqualTo(12);
    }
    assertThat(root.get("overhead")).hasSize(2);
    assertThat(root.get("targets").fieldNames()).toIterable().contains("p99LatencyToReactive",
        "reservedMemoryToReactive", "shadowOverheadShareOfCore", "modelStepMicros");
    assertThat(r.err()).contains("bench task: penumbra");
    JsonNode sweep = root.get("sweep");
    // Two levels x two seeds x three modes.
    assertThat(sweep.get("points")).hasSize(16);
    // Every point says where its tail's time went, the unconstrained bound's too.
    for (JsonNode p : sweep.get("points")) {
      assertThat(p.has("memoryWaitP99Ms")).isTrue();
      assertThat(p.has("tailAdmissionMs")).isTrue();
    }
    assertThat(sweep.get("points").findValuesAsText("mode")).contains("unconstrained");
    assertThat(sweep.get("seeds")).hasSize(2);
    assertThat(sweep.get("targets").fieldNames()).toIterable().contains("p99ToGrantOnRequestAtLoad0p5",
        "contendedP99ToGrantOnRequestAtLoad1p5");
  }
}
