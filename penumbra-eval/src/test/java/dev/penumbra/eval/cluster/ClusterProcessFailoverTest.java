package dev.penumbra.eval.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The process-level failover test: three replica processes on 127.0.0.1 under load from this JVM, the leader's
 * process killed with {@code kill -9} and restarted; no acknowledged operation may be lost or applied twice.
 * One kill, short levels: the full figures come from {@code penumbra bench cluster}.
 */
class ClusterProcessFailoverTest {

  @TempDir
  Path dir;

  @Test
  @Timeout(240)
  void killingTheLeaderProcessLosesNoAcknowledgedOperation() throws Exception {
    ClusterBench.Result r = ClusterBench.run(new ClusterBench.Options(List.of(4), Duration.ofMillis(500), 1, 64,
        dir, false, Duration.ZERO, 8, Duration.ofMillis(150)), line -> { });
    assertThat(r.failovers()).hasSize(1);
    assertThat(r.failovers().get(0).newLeader()).isNotEqualTo(r.failovers().get(0).killed());
    assertThat(r.acknowledged()).isPositive();
    assertThat(r.lost()).isZero();
    assertThat(r.duplicated()).isZero();
    assertThat(r.levels()).extracting(ClusterBench.Level::errors).containsOnly(0L);
    // The killed leader, restarted, is caught up by the new one: its log may end in entries the new leader never
    // had, which the leader walks back one round trip each (docs/cluster.md, "A follower the leader stops
    // reaching"). NaN would mean not within a minute.
    assertThat(r.rejoinMs()).hasSize(1).allSatisfy(ms -> assertThat(ms).isNotNaN());
  }

  @Test
  void badOptionsAreRefusedWithTheValue() {
    assertThatThrownBy(() -> new ClusterBench.Options(List.of(0), Duration.ofSeconds(1), 1, 64, dir, true,
        Duration.ZERO, 8, Duration.ofMillis(150))).hasMessage("clients must be a non-empty list of 1..2048, was [0]");
    assertThatThrownBy(() -> new ClusterBench.Options(List.of(1), Duration.ofSeconds(1), -1, 64, dir, true,
        Duration.ZERO, 8, Duration.ofMillis(150))).hasMessage("kills must be 0..100, was -1");
    assertThatThrownBy(() -> new ClusterBench.Options(List.of(1), Duration.ofSeconds(1), 1, 64, dir, true,
        Duration.ZERO, 0, Duration.ofMillis(150))).hasMessage("maxInFlight must be 1..1024, was 0");
    assertThatThrownBy(() -> new ClusterBench.Options(List.of(1), Duration.ofSeconds(1), 1, 64, dir, true,
        Duration.ZERO, 8, Duration.ofMillis(10))).hasMessage("electionTimeout must be 50 ms .. 60 s, was PT0.01S");
  }
}
