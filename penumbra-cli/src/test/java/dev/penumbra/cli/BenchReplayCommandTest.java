package dev.penumbra.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The bench command's options; the full benchmark run (seconds on real data) is documented in docs/benchmarks.md. */
class BenchReplayCommandTest {

  record Run(int code, String out, String err) {}

  private static synchronized Run run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    StringWriter cliErr = new StringWriter();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      CommandLine cli = Main.commandLine();
      cli.setErr(new PrintWriter(cliErr, true));
      int code = cli.execute(args);
      return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8) + cliErr);
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void aMissingDataDirectoryIsOneLineNamingIt(@TempDir Path dir) {
    Path missing = dir.resolve("nowhere");
    Run r = run("bench", "replay", "--data", missing.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip().lines()).hasSize(1);
    assertThat(r.err()).contains("--data").contains(missing.toString()).contains("no such directory");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void aDataDirectoryWithoutTheDatasetsNamesTheMissingOne(@TempDir Path dir) {
    Run r = run("bench", "replay", "--data", dir.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--data").contains("has no nab/data/realAWSCloudwatch");
  }

  @Test
  void formatIsCheckedFirst(@TempDir Path dir) throws Exception {
    Run r = run("bench", "replay", "--data", dir.resolve("nowhere").toString(), "--format", "csv");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--format").contains("csv");
  }

  @Test
  void benchListsItsReplaySubcommand() {
    Run r = run("bench");
    assertThat(r.code()).isEqualTo(0);
    assertThat(r.out()).contains("replay");
  }

  @Test
  void theTraceSetCoversTheSixDatasets() {
    assertThat(BenchReplayCommand.DATASETS).extracting(BenchReplayCommand.Dataset::name).containsExactly(
        "NAB cpu", "Bitbrains cpu", "Bitbrains memory", "Alibaba cpu", "Alibaba memory", "GenAI memory");
    for (BenchReplayCommand.Dataset d : BenchReplayCommand.DATASETS) {
      assertThat(Files.exists(Path.of("../../shared/data").resolve(d.path()))
          || !Files.exists(Path.of("../../shared/data"))).as(d.path()).isTrue();
    }
  }
}
