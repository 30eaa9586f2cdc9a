package dev.penumbra.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.Test;

/** The staggered election timeouts (a measured design): windows shifted by rank, the lease inside the shortest. */
class RaftTest {

  @Test
  void staggeredWindowsShiftByHalfATimeoutAndTheLeaseStaysInsideTheShortest() {
    long[][] expected = {{100, 200}, {150, 250}, {200, 300}};
    for (int rank = 0; rank < 3; rank++) {
      RaftProperties p = new RaftProperties();
      Raft.tune(p, Duration.ofMillis(100));
      Raft.stagger(p, Duration.ofMillis(100), rank);
      long min = RaftServerConfigKeys.Rpc.timeoutMin(p).toLong(TimeUnit.MILLISECONDS);
      long max = RaftServerConfigKeys.Rpc.timeoutMax(p).toLong(TimeUnit.MILLISECONDS);
      assertThat(new long[] {min, max}).containsExactly(expected[rank]);
      // the lease a leader of this rank trusts: never past 0.9 of the shortest timeout of any replica (100 ms)
      double lease = min * RaftServerConfigKeys.Read.leaderLeaseTimeoutRatio(p);
      assertThat(lease).isLessThanOrEqualTo(90.0 + 1e-9);
    }
  }
}
