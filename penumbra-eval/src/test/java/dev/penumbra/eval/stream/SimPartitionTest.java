package dev.penumbra.eval.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SimPartitionTest {

  @Test
  void aNewWorkerServesOnlyAfterTheStartDelay() {
    LatencyHistogram lat = new LatencyHistogram();
    SimPartition p = new SimPartition(1, 2.0, lat, 0);
    // Two records of 1 s at t=0: one worker serves them back to back.
    p.arrive(0, 1.0);
    p.scale(2); // the second worker is ready at t=2, after the first record finished
    p.arrive(0, 1.0);
    p.advance(10);
    assertThat(p.processed).isEqualTo(2);
    assertThat(lat.quantile(1.0)).isCloseTo(2.0, org.assertj.core.data.Offset.offset(0.05));
    // worker-seconds: 1 worker for 10 s + the second from t=0 (asked for) to 10
    assertThat(p.workerSeconds()).isCloseTo(20.0, org.assertj.core.data.Offset.offset(1e-9));
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
  void randomScalingNeverLosesARecord(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    SimPartition p = new SimPartition(2, 0.5, new LatencyHistogram(), 0);
    double t = 0;
    for (int i = 0; i < 20_000; i++) {
      t += r.nextDouble() * 0.002;
      p.arrive(t, 0.001 + r.nextDouble() * 0.004);
      if (i % 97 == 0) {
        p.scale(1 + r.nextInt(6));
      }
      assertThat(p.workers()).isPositive();
    }
    assertThat(p.drain()).isZero();
    assertThat(p.processed).isEqualTo(20_000);
    assertThat(p.backlog()).isZero();
  }
}
