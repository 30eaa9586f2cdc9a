package dev.penumbra.eval.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.eval.cluster.ReplicaProcesses.RoleEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Cutting one failover into its parts from the replicas' role changes, as {@code bench cluster} prints them. */
class FailoverPartsTest {

  private static final long MS = 1_000_000;
  private static final long T0 = 5_000 * MS;

  private static RoleEvent at(String id, String role, long term, boolean ready, long ms) {
    return new RoleEvent(id, role, term, ready, T0 + ms * MS);
  }

  @Test
  void partsAddUpToTheTimeUntilTheWriteCommitted() {
    // r0 killed; r1 (behind) stands first and loses, r2 stands, is elected in term 8 and is ready later.
    List<RoleEvent> events = List.of(
        at("r0", "CANDIDATE", 7, false, 50), // the killed replica's own lines never count
        at("r1", "CANDIDATE", 7, false, 180),
        at("r1", "FOLLOWER", 7, false, 190),
        at("r2", "CANDIDATE", 7, false, 240),
        at("r2", "CANDIDATE", 8, false, 250),
        at("r1", "FOLLOWER", 8, false, 255),
        at("r2", "LEADER", 8, false, 262),
        at("r2", "LEADER", 8, true, 300));
    ClusterBench.Failover f = ClusterBench.parts(3, "r0", "r2", 340, T0, T0 + 340 * MS, events);

    assertThat(f.detectMs()).isEqualTo(180);
    assertThat(f.electionMs()).isEqualTo(82);
    assertThat(f.readyMs()).isEqualTo(38);
    assertThat(f.clientMs()).isEqualTo(40);
    assertThat(f.stands()).isEqualTo(3);
    assertThat(f.detectMs() + f.electionMs() + f.readyMs() + f.clientMs()).isEqualTo(f.millisToCommit());
    assertThat(ClusterBench.timeline("r0", T0, T0 + 340 * MS, events))
        .startsWith("r1:CANDIDATE/t7@180 ").contains("r2:LEADER+ready/t8@300").endsWith("commit@340");
  }

  @Test
  void aFailoverWithoutAStandSeenHasNoParts() {
    ClusterBench.Failover f = ClusterBench.parts(1, "r0", "r1", 500, T0, T0 + 500 * MS,
        List.of(at("r1", "LEADER", 3, true, 100)));
    assertThat(f.detectMs()).isNaN();
    assertThat(f.millisToCommit()).isEqualTo(500);
    List<Double> p = ClusterBench.parts(List.of(f));
    assertThat(p).hasSize(8).allMatch(d -> d.isNaN());
  }

  @Test
  void raftPropertiesMustBeRaftKeys() {
    assertThatThrownBy(() -> new ClusterBench.Options(List.of(1), Duration.ofSeconds(1), 1, 64, Path.of("x"), true,
        Duration.ZERO, 8, Duration.ofMillis(100), false, Map.of("server.rpc.timeout", "1s")))
        .hasMessage("raft keys must start with 'raft.', was 'server.rpc.timeout'");
  }
}
