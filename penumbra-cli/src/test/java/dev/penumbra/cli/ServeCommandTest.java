package dev.penumbra.cli;

import static dev.penumbra.cli.CliRun.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.query.QueryGateway;
import dev.penumbra.query.tpch.TpchDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code penumbra serve} and {@code penumbra demo}: option and configuration errors, and a short demo run. */
class ServeCommandTest {
  @TempDir static Path dir;


  @ParameterizedTest
  @CsvSource({"serve, --port, 70000", "serve, --port, x", "demo, --duration, -1", "serve, --config, /no/such.yaml",
      "bench server, --clients, 0", "bench server, --requests, -5", "bench server, --seconds, 0",
      "bench server, --query-share, 2", "bench server, --format, xml", "serve, --role, foo",
      "serve, --control-plane, http://127.0.0.1:9", "serve --role shadow, --control-plane, localhost:8080",
      "serve --role shadow, --control-plane, http://127.0.0.1:9/x", "serve --role shadow, --control-plane, ftp://h:1",
      "serve --role shadow --control-plane http://127.0.0.1:9, --slots, 0",
      "serve --role shadow --control-plane http://127.0.0.1:9, --worker-id, a b",
      "bench shadow-workers, --clients, 0", "bench shadow-workers, --workers, x",
      "bench shadow-workers, --workers, 17", "bench shadow-workers, --seconds, 0"})
  void badOptionsExit2NamingTheOptionAndValue(String command, String option, String value) {
    String[] words = command.split(" ");
    String[] args = java.util.Arrays.copyOf(words, words.length + 2);
    args[words.length] = option;
    args[words.length + 1] = value;
    CliRun r = run(args);
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains(option).contains(value);
    assertThat(r.out()).isEmpty();
  }

  @ParameterizedTest
  @CsvSource({"--cluster", "--role", "--slots", "--control-plane"})
  void demoTakesNoneOfServesReplicaOrWorkerOptions(String option) {
    CliRun help = run("demo", "--help");
    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("--duration").doesNotContain(option);
    CliRun r = run("demo", option);
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains(option);
  }

  @Test
  void invalidConfigFileStopsTheStartNamingKeyAndValue() throws Exception {
    Path f = dir.resolve("bad.yaml");
    Files.writeString(f, "ledger:\n  memory: plenty\n");
    CliRun r = run("serve", "--config", f.toString(), "--port", "0");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("ledger.memory").contains("plenty");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void aDataDirectoryOfANewerFormatStopsTheStartNamingTheFile() throws Exception {
    Path data = Files.createDirectories(dir.resolve("newer"));
    // The id file: one that cannot be read stops the start (a learned file would be set aside instead).
    Files.writeString(data.resolve("state.json"), "{\"formatVersion\": 7, \"nextReservationId\": 9}");
    Path f = dir.resolve("newer.yaml");
    Files.writeString(f, "server:\n  port: 0\n  dataDir: " + data + "\nquery:\n  enabled: false\n");
    CliRun r = run("serve", "--config", f.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("state.json").contains("format version 7").doesNotContain("\tat ");
    assertThat(Files.readString(data.resolve("state.json"))).contains("\"formatVersion\": 7");
  }

  @Test
  void demoRunsItsWorkloadAndStopsByItself() throws Exception {
    // The query capability starts in the background and nothing stops that start; with its data generated
    // here it is up long before the demo ends, so no start outlives this test and writes into another's output.
    Path cache = Files.createDirectories(dir.resolve("cache"));
    TpchDatabase.duckdb(QueryGateway.databaseFile(cache, 0.01, 42), 0.01, 42);
    Path f = dir.resolve("demo.yaml");
    Files.writeString(f, "server:\n  port: 0\nledger:\n  memory: 256MiB\n  cores: 2\nquery:\n  scale: 0.01\n  cacheDir: "
        + dir.resolve("cache") + "\n  engineInstances: 2\ndemo:\n  pause: 50ms\n");
    CliRun r = run("demo", "--config", f.toString(), "--duration", "6");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).containsPattern("Penumbra demo at http://127\\.0\\.0\\.1:\\d+/");
    assertThat(r.err()).containsPattern("demo: [1-9]\\d* steps, 0 failed");
  }

  @Test
  void aPortInUseIsOneCleanLineAndExitCode2() throws Exception {
    Path f = dir.resolve("quiet.yaml");
    Files.writeString(f, "query:\n  enabled: false\nstream:\n  enabled: false\ntask:\n  enabled: false\n");
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      CliRun r = run("serve", "--config", f.toString(), "--port", Integer.toString(taken.getLocalPort()),
          "--duration", "1");
      assertThat(r.code()).as(r.err()).isEqualTo(2);
      assertThat(r.err()).contains(":" + taken.getLocalPort()).contains("already in use").doesNotContain("\tat ")
          .doesNotContain("Exception");
      assertThat(r.out()).isEmpty();
    }
  }

  @Test
  void aHostThatIsNotAnAddressIsOneCleanLineAndExitCode2() throws Exception {
    Path f = dir.resolve("badhost.yaml");
    // With tokens, so the non-loopback check passes and the listen itself fails.
    Files.writeString(f, "server:\n  host: 999.1.1.1\n  port: 0\nquery:\n  enabled: false\nstream:\n  enabled: false\n"
        + "task:\n  enabled: false\nauth:\n  tokens: ops:admin:0123456789abcdef\n");
    CliRun r = run("serve", "--config", f.toString(), "--duration", "1");
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).contains("999.1.1.1").doesNotContain("already in use").doesNotContain("\tat ")
        .doesNotContain("Exception");
    assertThat(r.out()).isEmpty();
  }
}
