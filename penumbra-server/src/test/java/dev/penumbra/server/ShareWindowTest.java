package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The shadow share over the last minute, from readings of the running totals with their times. */
class ShareWindowTest {
  static final long MS = 1_000_000;

  @Test
  void beforeAWindowHasPassedItIsTheShareSinceTheFirstReading() {
    ShareWindow w = new ShareWindow(60_000);
    assertThat(w.share(0, 0)).isNaN();
    w.add(0, 0, 0);
    assertThat(w.share(5 * MS, 0)).as("no primary time yet").isNaN();
    w.add(10_000, 30 * MS, 300 * MS);
    assertThat(w.share(30 * MS, 300 * MS)).isEqualTo(0.1);
  }

  @Test
  void aColdStartsPlansLeaveTheWindowAfterAMinute() {
    ShareWindow w = new ShareWindow(60_000);
    // The first 20 s: 300 ms of plans against 2 s of primary time (15%).
    w.add(0, 0, 0);
    w.add(20_000, 300 * MS, 2000 * MS);
    // Then 2% a second for 80 s: 20 ms of shadow per 1 s of primary time.
    long shadow = 300 * MS;
    long primary = 2000 * MS;
    for (long t = 21_000; t <= 100_000; t += 1000) {
      shadow += 20 * MS;
      primary += 1000 * MS;
      w.add(t, shadow, primary);
    }
    assertThat((double) shadow / primary).as("since start").isGreaterThan(0.02);
    assertThat(w.share(shadow, primary)).as("the last minute").isCloseTo(0.02, org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void keepsAtMostOneReadingASecond() {
    ShareWindow w = new ShareWindow(60_000);
    w.add(0, 0, 0);
    w.add(500, 50 * MS, 100 * MS);
    assertThat(w.share(50 * MS, 100 * MS)).as("measured from the reading at 0").isEqualTo(0.5);
  }

  @Test
  void refusesAnEmptyWindow() {
    assertThatThrownBy(() -> new ShareWindow(0)).hasMessageContaining("windowMillis must be > 0, was 0");
  }
}
