package dev.penumbra.cli;

import static dev.penumbra.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every command with {@code --report} refuses a file it could not write while parsing, before it runs. */
class ReportFileTest {

  @TempDir
  Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"bench shard", "bench cluster", "bench shadow-workers", "bench failover", "bench failure",
      "bench replay", "replay"})
  void aReportInAMissingDirectoryIsRefusedNamingTheOptionAndTheFile(String command) {
    String file = dir.resolve("missing").resolve("report.html").toString();
    String[] words = command.split(" ");
    String[] args = new String[words.length + 2];
    System.arraycopy(words, 0, args, 0, words.length);
    args[words.length] = "--report";
    args[words.length + 1] = file;
    CliRun r = run(args);
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).contains("--report").contains(file).contains("its directory does not exist");
    assertThat(r.out()).isEmpty();
  }
}
