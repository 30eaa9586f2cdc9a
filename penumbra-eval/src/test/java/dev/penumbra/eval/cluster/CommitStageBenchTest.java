package dev.penumbra.eval.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The stage arithmetic of {@code bench cluster --stages}, on stamps made up here (no processes). */
class CommitStageBenchTest {

  private static final long MS = 1_000_000;

  @Test
  void stagesAddUpToTheLatencyAndTheTailIsWhereTheSlowCommitsSpentIt() {
    List<CommitStageBench.Call> calls = new ArrayList<>();
    List<CommitStageBench.Trace> traces = new ArrayList<>();
    Map<Long, long[]> leader = new HashMap<>();
    long t = 1_000 * MS;
    for (int i = 0; i < 200; i++) {
      // Every commit: 1 ms to send, 2 ms to the leader, 0 before the append, 3 ms (or 50 ms for every 100th) to
      // replicate, 1 ms to apply, 2 ms back, 1 ms to wake the caller.
      long replicate = i % 100 == 99 ? 50 * MS : 3 * MS;
      long start = t;
      long sent = start + MS;
      long arrived = sent + 2 * MS;
      long preAppend = arrived;
      long applyStart = preAppend + replicate;
      long applyEnd = applyStart + MS;
      long replied = applyEnd + 2 * MS;
      long end = replied + MS;
      calls.add(new CommitStageBench.Call(start, end));
      traces.add(new CommitStageBench.Trace(i + 1, 1, start, sent, replied));
      leader.put((long) i + 1, new long[] {arrived, preAppend, applyStart, applyEnd});
      t = end + MS;
    }
    // An entry the leader did not stamp (another leader) is left out, not joined with the wrong stamps.
    leader.remove(5L);
    CommitStageBench.Result r = CommitStageBench.join(calls, traces, leader, "r0", 0, List.of(), "l0", "l1");
    assertThat(r.commits()).isEqualTo(199);
    assertThat(r.p50Ms()).isEqualTo(10.0);
    assertThat(r.p99Ms()).isEqualTo(57.0);
    assertThat(r.stages()).extracting(CommitStageBench.Stage::name).isEqualTo(CommitStageBench.STAGES);
    double sum = r.stages().stream().mapToDouble(CommitStageBench.Stage::p50Ms).sum();
    assertThat(sum).isEqualTo(10.0);
    CommitStageBench.Stage replication = r.stages().get(3);
    assertThat(replication.p50Ms()).isEqualTo(3.0);
    assertThat(replication.tailMeanMs()).isEqualTo(50.0);
    assertThat(r.stages().get(1).tailMeanMs()).isEqualTo(2.0);
    assertThat(r.quarterP50Ms()).hasSize(4).allSatisfy(q -> assertThat(q).isEqualTo(10.0));
  }

  @Test
  void badOptionsAreRefusedNamingTheValue() {
    Path dir = Path.of("target");
    assertThatThrownBy(() -> new CommitStageBench.Options(Duration.ZERO, Duration.ZERO, dir, true,
        Duration.ofMillis(150), false, Map.of(), false)).hasMessageContaining("measure").hasMessageContaining("PT0S");
    assertThatThrownBy(() -> new CommitStageBench.Options(Duration.ofSeconds(1), Duration.ZERO, dir, true,
        Duration.ofMillis(150), false, Map.of("server.x", "1"), false)).hasMessageContaining("'server.x'");
    assertThatThrownBy(() -> new CommitStageBench.Options(Duration.ofSeconds(1), Duration.ZERO, dir, true,
        Duration.ofMillis(150), false, Map.of("raft.server.x", "1"), true)).hasMessageContaining("colocated");
  }
}
