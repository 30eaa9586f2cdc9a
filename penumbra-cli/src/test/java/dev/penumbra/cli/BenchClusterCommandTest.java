package dev.penumbra.cli;

import static dev.penumbra.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The cluster benchmark's options; its runs are exercised by penumbra-eval's process-level failover test. */
class BenchClusterCommandTest {

  @Test
  void badOptionsExitWithTwoNamingOptionAndValue() {
    CliRun r = run("bench", "cluster", "--clients", "1,0");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--clients").contains("'1,0'").contains("each level must be in 1..2048, was 0");
    assertThat(r.out()).isEmpty();
    assertThat(run("bench", "cluster", "--clients", "1,x").err()).contains("--clients").contains("'x' is not a number");
    assertThat(run("bench", "cluster", "--kills", "101").err()).contains("--kills").contains("101");
    assertThat(run("bench", "cluster", "--seconds", "0").err()).contains("--seconds").contains("0.0");
    assertThat(run("bench", "cluster", "--max-batch", "0").err()).contains("--max-batch").contains("0");
    assertThat(run("bench", "cluster", "--format", "csv").err()).contains("--format").contains("csv");
    assertThat(run("bench", "cluster", "--stages", "--raft", "server.x=1").err()).contains("--raft")
        .contains("server.x=1").contains("not raft.KEY=VALUE");
    assertThat(run("bench", "cluster", "--raft", "rpc.timeout=1s").err()).contains("--raft").contains("rpc.timeout=1s")
        .contains("not raft.KEY=VALUE");
    assertThat(run("bench", "cluster", "--colocated").err()).contains("--colocated").contains("only with --stages");
    assertThat(run("bench", "cluster", "--stages", "--colocated", "--raft", "raft.a=1").err()).contains("--raft")
        .contains("not with --colocated");
    assertThat(run("bench", "cluster", "--bare", "--stages").err()).contains("--bare")
        .contains("not with --stages or --colocated");
    assertThat(run("bench", "cluster", "--reach", "--trials", "0").err()).contains("--trials").contains("0");
    assertThat(run("bench", "cluster", "--reach", "--down-seconds", "-1").err()).contains("--down-seconds")
        .contains("-1");
    assertThat(run("bench", "cluster", "--reach", "--cases", "LATE,SOON").err()).contains("--cases")
        .contains("SOON");
    assertThat(run("bench", "cluster", "--reach", "--bare").err()).contains("--reach")
        .contains("not with --bare, --stages or --colocated");
  }
}
