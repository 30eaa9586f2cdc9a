package dev.penumbra.cli;

import static dev.penumbra.cli.CliRun.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code penumbra bench stream}: options, and a short run on a small rate trace. */
class BenchStreamCommandTest {


  @Test
  void badOptionsExitTwoNamingOptionAndValue(@TempDir Path dir) {
    CliRun r = run("bench", "stream", "--sample-rate", "1.5");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--sample-rate").contains("'1.5'").contains("(0, 1]");
    assertThat(r.out()).isEmpty();
    r = run("bench", "stream", "--format", "xml");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--format").contains("'xml'");
    r = run("bench", "stream", "--rates", dir.resolve("none.csv").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--rates").contains("none.csv").contains("no such file");
    r = run("bench", "stream", "--data", dir.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--data").contains("has no nab/data/realKnownCause/nyc_taxi.csv");
    r = run("bench", "stream", "--warmup", "500");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--warmup").contains("'500'");
  }

  @Test
  void jsonRunPrintsOnlyJsonOnStdout(@TempDir Path dir) throws Exception {
    StringBuilder csv = new StringBuilder("timestamp,value\n");
    for (int i = 0; i < 96; i++) {
      int h = i % 24;
      csv.append(String.format("2026-01-%02d %02d:00:00,%d%n", 1 + i / 24, h, h >= 8 && h < 18 ? 900 : 100));
    }
    Path f = dir.resolve("rates.csv");
    Files.writeString(f, csv);
    CliRun r = run("bench", "stream", "--rates", f.toString(), "--duration", "30", "--warmup", "10",
        "--peak-workers", "3", "--cost-us", "200", "--sample-rate", "0.02", "--overhead-rounds", "0",
        "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode root = new ObjectMapper().readTree(r.out());
    assertThat(root.path("scalers").path("penumbra").path("recordsLost").asLong(-1)).isZero();
    assertThat(root.path("scalers").path("reactive").path("records").asLong())
        .isEqualTo(root.path("scalers").path("penumbra").path("records").asLong());
    assertThat(root.path("partitions").get(0).path("name").asText()).isEqualTo("rates");
    assertThat(r.err()).contains("stream bench: 30/30 s replayed");
  }
}
