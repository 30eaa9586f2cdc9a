package dev.penumbra.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Bad input to the failure and failover benchmarks fails naming the option and value, before anything runs. */
class BenchFailoverCommandTest {

  @Test
  void failoverRejectsBadThresholdsAndCounts() {
    CliRun r = CliRun.run("bench", "failover", "--thresholds", "calibrated", "--provision", "0.95", "--promote",
        "0.9");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("provision threshold (0.95)").contains("promote threshold (0.9)");
    r = CliRun.run("bench", "failover", "--thresholds", "calibrated", "--promote", "1.5");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("promote threshold must be in [0, 1], was 1.5");
    r = CliRun.run("bench", "failover", "--nodes", "0");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("nodes must be in 1..8, was 0");
    r = CliRun.run("bench", "failover", "--policy", "sometimes");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("unknown policy 'sometimes'");
    r = CliRun.run("bench", "failover", "--thresholds", "fixed");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("--thresholds").contains("'fixed'");
    // The default is alarm-rate: a fixed risk given beside it would be silently ignored, so it is refused.
    r = CliRun.run("bench", "failover", "--promote", "0.8");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("--promote").contains("only with --thresholds calibrated");
    r = CliRun.run("bench", "failover", "--warm-connections", "17");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("warmConnections must be in 0..16, was 17");
    r = CliRun.run("bench", "failover", "--data", "/no/such/dir");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("--data").contains("/no/such/dir");
  }

  @Test
  void failureRejectsBadOptions() {
    CliRun r = CliRun.run("bench", "failure", "--format", "csv");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("--format").contains("csv");
    r = CliRun.run("bench", "failure", "--horizon", "0");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("--horizon").contains("'0'");
    r = CliRun.run("bench", "failure", "--train", "/no/such/dir");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("--train and --test go together");
    r = CliRun.run("bench", "failure", "--train", "/no/such/a", "--test", "/no/such/b");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("--train").contains("/no/such/a");
  }
}
