package dev.penumbra.cli;

import static dev.penumbra.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shard benchmark's options and output; the full run's figures are in docs/benchmarks.md. */
class BenchShardCommandTest {

  @TempDir
  Path dir;

  private Path trace() throws Exception {
    Random r = new Random(3);
    StringBuilder sb = new StringBuilder("task_create_time,task_end_time,job_id,task_id,number_of_instances,status,"
        + "number_of_cpus_requested_per_instance_in_the_task,normalized_memory_requested_per_instance_in_the_task\n");
    long task = 1;
    for (int j = 1; j <= 60; j++) {
      for (int i = 0; i < 1 + r.nextInt(4); i++) {
        long seconds = i == 0 ? 100 + r.nextInt(100) : 5 + r.nextInt(10);
        sb.append(j * 50).append(',').append(j * 50 + seconds).append(',').append(j).append(',').append(task++)
            .append(',').append(10 + r.nextInt(40)).append(',').append(r.nextInt(20) == 0 ? "Failed" : "Terminated")
            .append(",50,0.01\n");
      }
    }
    Path f = dir.resolve("batch_task.csv");
    Files.writeString(f, sb.toString());
    return f;
  }

  @Test
  void badOptionsExitWithTwoNamingOptionAndValue() throws Exception {
    CliRun r = run("bench", "shard", "--format", "csv");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--format").contains("csv");
    assertThat(r.out()).isEmpty();
    assertThat(run("bench", "shard", "--trace", dir.resolve("none.csv").toString()).err()).contains("--trace")
        .contains("none.csv");
    String t = trace().toString();
    assertThat(run("bench", "shard", "--trace", t, "--loads", "abc").err()).contains("--loads").contains("abc");
    assertThat(run("bench", "shard", "--trace", t, "--loads", "0").err()).contains("load must be in (0, 10], was 0.0");
    assertThat(run("bench", "shard", "--trace", t, "--shards", "0").err()).contains("shards must be in 1..10000, was 0");
  }

  @Test
  void aSmallJsonRunPrintsEveryPolicyAndTarget() throws Exception {
    CliRun r = run("bench", "shard", "--trace", trace().toString(), "--jobs", "20", "--loads", "0.8", "--backends", "2",
        "--cores", "8", "--shards", "4", "--max-shards", "16", "--tpch-scale", "0", "--format", "json");
    assertThat(r.code()).as(r.err()).isEqualTo(0);
    JsonNode root = new ObjectMapper().readTree(r.out());
    assertThat(root.get("results")).hasSize(5);
    // One naming convention for every JSON the product writes: camelCase, as the records name their fields.
    assertThat(root.get("coresPerBackend").asInt()).isEqualTo(8);
    assertThat(root.get("maxShards").asInt()).isEqualTo(16);
    assertThat(root.has("wallSeconds")).isTrue();
    for (JsonNode p : root.get("results")) {
      assertThat(p.get("completed").asInt()).as(p.get("policy").asText()).isEqualTo(p.get("requests").asInt());
      assertThat(p.get("keysLost").asLong() + p.get("keysDuplicated").asLong()).isZero();
    }
    assertThat(root.get("targets").findValuesAsText("name")).contains("p99_latency_to_uniform",
        "reserved_core_seconds_to_uniform", "straggler_ratio_median", "keys_lost_or_duplicated");
    assertThat(r.err()).contains("bench shard: load 0.80 penumbra");
  }
}
