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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** {@code penumbra serve} and {@code penumbra demo}: option and configuration errors, and a short demo run. */
class ServeCommandTest {
  @TempDir static Path dir;

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

  @ParameterizedTest
  @CsvSource({"serve, --port, 70000", "serve, --port, x", "demo, --duration, -1", "serve, --config, /no/such.yaml",
      "bench server, --clients, 0", "bench server, --requests, -5", "bench server, --seconds, 0",
      "bench server, --query-share, 2", "bench server, --format, xml"})
  void badOptionsExit2NamingTheOptionAndValue(String command, String option, String value) {
    String[] words = command.split(" ");
    String[] args = java.util.Arrays.copyOf(words, words.length + 2);
    args[words.length] = option;
    args[words.length + 1] = value;
    Run r = run(args);
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains(option).contains(value);
    assertThat(r.out()).isEmpty();
  }

  @Test
  void invalidConfigFileStopsTheStartNamingKeyAndValue() throws Exception {
    Path f = dir.resolve("bad.yaml");
    Files.writeString(f, "ledger:\n  memory: plenty\n");
    Run r = run("serve", "--config", f.toString(), "--port", "0");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("ledger.memory").contains("plenty");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void demoRunsItsWorkloadAndStopsByItself() throws Exception {
    Path f = dir.resolve("demo.yaml");
    Files.writeString(f, "server:\n  port: 0\nledger:\n  memory: 256MiB\n  cores: 2\nquery:\n  scale: 0.01\n  cacheDir: "
        + dir.resolve("cache") + "\n  engineInstances: 2\ndemo:\n  pause: 50ms\n");
    Run r = run("demo", "--config", f.toString(), "--duration", "6");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).containsPattern("Penumbra demo at http://127\\.0\\.0\\.1:\\d+/");
    assertThat(r.err()).containsPattern("demo: [1-9]\\d* steps, 0 failed");
  }
}
