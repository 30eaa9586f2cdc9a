package dev.penumbra.query;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class UtilizationTest {

  @Test
  void sharesTheCoresByTheRecentArrivalsCpu() {
    Utilization u = new Utilization(2);
    assertThat(u.share()).isZero();
    // A query every 10 ms, each 15 ms of CPU, on 2 cores: 75% busy.
    for (int i = 0; i < 200; i++) {
      u.arrived(i * 10_000_000L);
      u.ran(15_000_000L);
    }
    assertThat(u.share()).isCloseTo(0.75, org.assertj.core.data.Offset.offset(1e-6));
  }

  @Test
  void aQuietSpellBringsTheShareDown() {
    Utilization u = new Utilization(2);
    long t = 0;
    for (int i = 0; i < 100; i++) {
      u.arrived(t += 10_000_000L);
      u.ran(15_000_000L);
    }
    double busy = u.share();
    for (int i = 0; i < 100; i++) {
      u.arrived(t += 200_000_000L);
      u.ran(15_000_000L);
    }
    assertThat(u.share()).isLessThan(busy / 10);
  }
}
