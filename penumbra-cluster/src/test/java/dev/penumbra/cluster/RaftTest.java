package dev.penumbra.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.Test;

/**
 * The staggered election timeouts (a measured design): windows shifted by rank, the lease inside the shortest. The
 * leader's sleeps after a follower's errors: always below the heartbeat interval.
 */
class RaftTest {

  /**
   * An appender that sleeps half the shortest election timeout or longer wakes to a heartbeat that is due and sends
   * it instead of the entries its follower lacks (docs/cluster.md, "A follower the leader stops reaching"); the
   * sleep is drawn from 0.5-1.5x the policy's, so every draw is checked below that bound, at any error count.
   */
  @Test
  void theLeadersSleepAfterAFollowersErrorsStaysBelowTheHeartbeatInterval() {
    for (long min : new long[] {50, 100, 150, 1000}) {
      RaftProperties p = new RaftProperties();
      Raft.tune(p, Duration.ofMillis(min));
      RetryPolicy policy = RetryPolicy.parse(RaftServerConfigKeys.Log.Appender.retryPolicy(p), "appender policy");
      for (int errors : new int[] {1, 10, 11, 30, 31, 1_000, 1_031, 1_000_000, Integer.MAX_VALUE}) {
        for (int draw = 0; draw < 50; draw++) {
          RetryPolicy.Action a = policy.handleAttemptFailure(() -> errors);
          assertThat(a.shouldRetry()).as("retry after %d errors", errors).isTrue();
          assertThat(a.getSleepTime().toLong(TimeUnit.MICROSECONDS)).as("sleep after %d errors at %d ms", errors, min)
              .isLessThan(min * 1000 / 2);
        }
      }
    }
    // Ratis' default sleeps 1 s after the 10th error: the bound above is what it breaks.
    RetryPolicy ratisDefault = RetryPolicy.parse(RaftServerConfigKeys.Log.Appender.RETRY_POLICY_DEFAULT, "default");
    assertThat(ratisDefault.handleAttemptFailure(() -> 11).getSleepTime().toLong(TimeUnit.MILLISECONDS))
        .isGreaterThanOrEqualTo(500);
  }

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
