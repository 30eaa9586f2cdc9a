package dev.penumbra.cli;

import static dev.penumbra.cli.CliRun.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ReplayCommandTest {


  @ParameterizedTest
  @CsvSource({
    "--policy, lru",
    "--resource, gpu",
    "--format, xml",
    "--lead, 0",
    "--budget, 100%",
    "--budget, -1%",
    "--budget, lots",
    "--trace, /no/such/trace.csv",
    "--trace-format, parquet"
  })
  void aBadOptionExitsWithTwoAndOneLineNamingIt(String option, String value) {
    CliRun r = run("replay", option, value);
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip().lines()).hasSize(1);
    assertThat(r.err()).contains(option).contains(value);
    assertThat(r.out()).isEmpty();
  }

  @Test
  void jsonFormatPrintsOnlyJsonOnStdout(@TempDir Path dir) throws Exception {
    Path html = dir.resolve("out.html");
    CliRun r = run("replay", "--format", "json", "--policy", "static,reactive", "--policy", "oracle", "--report", html.toString());
    assertThat(r.code()).isEqualTo(0);
    JsonNode root = new ObjectMapper().readTree(r.out());
    assertThat(root.get("lead").asInt()).isEqualTo(1);
    assertThat(root.get("runs")).hasSize(3);
    JsonNode oracle = root.get("runs").get(2);
    assertThat(oracle.get("policy").asText()).isEqualTo("oracle");
    assertThat(oracle.get("trace").asText()).isEqualTo("demo:cpu");
    assertThat(oracle.get("slackAtBudget").asDouble()).isLessThan(1e-9);
    assertThat(oracle.get("violationRate").asDouble()).isZero();
    assertThat(root.get("runs").get(0).get("slackAtBudget").asDouble()).isGreaterThan(0);
    String page = Files.readString(html);
    assertThat(page).startsWith("<!DOCTYPE html>").contains("<svg").contains("demo:cpu").doesNotContain("<script", "src=\"http");
  }

  @Test
  void csvHasAHeaderAndOneRowPerPolicy() {
    CliRun r = run("replay", "--format", "csv", "--resource", "memory", "--lead", "3", "--budget", "0.05");
    assertThat(r.code()).isEqualTo(0);
    var lines = r.out().strip().lines().toList();
    assertThat(lines.get(0)).startsWith("trace,resource,unit,intervals,scored,lead,budget,policy,slack,");
    assertThat(lines).hasSize(1 + dev.penumbra.eval.policy.Policies.names().size());
    assertThat(lines.get(1)).startsWith("demo:memory,memory,GiB,2016,1728,3,0.05,");
  }

  @Test
  void formatIsValidatedBeforeAnyTraceIsRead(@TempDir Path dir) throws Exception {
    // the trace is unreadable; the bad --format must be reported, not the trace
    Path bad = dir.resolve("bad.csv");
    Files.writeString(bad, "hello world\n");
    CliRun r = run("replay", "--trace", bad.toString(), "--format", "xml");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--format").contains("xml").doesNotContain("bad.csv");
  }

  @Test
  void anUnreadableTraceIsOneLineNamingTheFileAndTheProblem(@TempDir Path dir) throws Exception {
    Path bad = dir.resolve("bad.csv");
    Files.writeString(bad, "hello world\n");
    CliRun r = run("replay", "--trace", bad.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip().lines()).hasSize(1);
    assertThat(r.err()).contains("--trace").contains("bad.csv").contains("unrecognised trace format");
  }

  @Test
  void resourceKeepsOnlyTracesOfThatResource(@TempDir Path dir) throws Exception {
    // a generic CSV export with a cpu and a memory column: two traces
    StringBuilder csv = new StringBuilder("timestamp,cpu_percent,mem_bytes\n");
    for (int i = 0; i < 100; i++) {
      csv.append(String.format("2024-01-01 %02d:%02d:00,%d,%d%n", i / 60, i % 60, 10 + i % 7, 1000 + i));
    }
    Path file = dir.resolve("export.csv");
    Files.writeString(file, csv);
    CliRun all = run("replay", "--trace", file.toString(), "--policy", "static", "--format", "csv");
    assertThat(all.code()).as(all.err()).isEqualTo(0);
    assertThat(all.out().strip().lines()).hasSize(3);
    CliRun memory = run("replay", "--trace", file.toString(), "--policy", "static", "--format", "csv", "--resource", "memory");
    assertThat(memory.code()).as(memory.err()).isEqualTo(0);
    var lines = memory.out().strip().lines().toList();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(1)).startsWith("export.csv:mem_bytes:memory,memory,");
    CliRun io = run("replay", "--trace", file.toString(), "--resource", "io");
    assertThat(io.code()).isEqualTo(2);
    assertThat(io.err()).contains("--resource").contains("io").contains("none of the given traces");
  }

  @Test
  void traceFormatForcesTheReader(@TempDir Path dir) throws Exception {
    StringBuilder csv = new StringBuilder("timestamp,value\n");
    for (int i = 0; i < 50; i++) {
      csv.append(String.format("2024-01-01 %02d:%02d:00,%d%n", i / 60, i % 60, 10 + i % 7));
    }
    Path file = dir.resolve("requests.csv");
    Files.writeString(file, csv);
    CliRun nab = run("replay", "--trace", file.toString(), "--trace-format", "nab", "--policy", "static", "--format", "csv");
    assertThat(nab.code()).as(nab.err()).isEqualTo(0);
    assertThat(nab.out()).contains("requests.csv:cpu,cpu,count,50,");
    CliRun bitbrains = run("replay", "--trace", file.toString(), "--trace-format", "bitbrains");
    assertThat(bitbrains.code()).isEqualTo(2);
    assertThat(bitbrains.err()).contains("--trace").contains("requests.csv");
  }

  @Test
  void readsTraceFilesGivenOnTheCommandLine(@TempDir Path dir) throws Exception {
    StringBuilder csv = new StringBuilder("timestamp,value\n");
    for (int i = 0; i < 100; i++) {
      csv.append(String.format("2024-01-01 %02d:%02d:00,%d%n", i / 60, i % 60, 10 + i % 7));
    }
    Path file = dir.resolve("series.csv");
    Files.writeString(file, csv);
    CliRun r = run("replay", "--trace", file.toString(), "--policy", "static,oracle");
    assertThat(r.code()).as(r.err()).isEqualTo(0);
    assertThat(r.out()).contains("series.csv").contains("static").contains("oracle");
  }

  @Test
  void severalTracesFollowOneTraceOption(@TempDir Path dir) throws Exception {
    for (String name : List.of("a.csv", "b.csv")) {
      StringBuilder csv = new StringBuilder("timestamp,value\n");
      for (int i = 0; i < 100; i++) {
        csv.append(String.format("2024-01-01 %02d:%02d:00,%d%n", i / 60, i % 60, 10 + i % 5));
      }
      Files.writeString(dir.resolve(name), csv);
    }
    CliRun r = run("replay", "--trace", dir.resolve("a.csv").toString(), dir.resolve("b.csv").toString(),
        "--policy", "static");
    assertThat(r.code()).as(r.err()).isEqualTo(0);
    assertThat(r.out()).contains("a.csv").contains("b.csv");
  }

  @Test
  void helpHasNoFormatWarningsAndNoSentenceBrokenAcrossLines() {
    for (String[] args : List.of(new String[] {"replay", "--help"}, new String[] {"bench", "replay", "--help"},
        new String[] {"query", "--help"}, new String[] {"serve", "--help"})) {
      CliRun r = run(args);
      assertThat(r.code()).isZero();
      assertThat(r.out() + r.err()).doesNotContain("WARN").doesNotContain("Could not format");
      // A description split into array lines left stubs such as "scores each: slack," on a line of their own.
      assertThat(r.out()).doesNotContainPattern("\\n\\s*[^\\n\\[\\]-]{1,30},\\r?\\n");
    }
    assertThat(run("replay", "--help").out()).contains("1%");
  }
}
