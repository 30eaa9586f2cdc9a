package dev.penumbra.cli;

import static dev.penumbra.cli.CliRun.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench command's options; the full benchmark run (seconds on real data) is documented in docs/benchmarks.md. */
class BenchReplayCommandTest {


  @Test
  void aMissingDataDirectoryIsOneLineNamingIt(@TempDir Path dir) {
    Path missing = dir.resolve("nowhere");
    CliRun r = run("bench", "replay", "--data", missing.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip().lines()).hasSize(1);
    assertThat(r.err()).contains("--data").contains(missing.toString()).contains("no such directory");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void aDataDirectoryWithoutTheDatasetsNamesTheMissingOne(@TempDir Path dir) {
    CliRun r = run("bench", "replay", "--data", dir.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--data").contains("has no nab/data/realAWSCloudwatch");
  }

  @Test
  void formatIsCheckedFirst(@TempDir Path dir) throws Exception {
    CliRun r = run("bench", "replay", "--data", dir.resolve("nowhere").toString(), "--format", "csv");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--format").contains("csv");
  }

  @Test
  void benchListsItsReplaySubcommand() {
    CliRun r = run("bench");
    assertThat(r.code()).isEqualTo(0);
    assertThat(r.out()).contains("replay");
  }
}
