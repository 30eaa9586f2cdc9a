package dev.penumbra.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class PriorityAndClockTest {

  @Test
  void onlyStrictlyHigherPriorityOutranks() {
    assertThat(Priority.CRITICAL.outranks(Priority.STANDARD)).isTrue();
    assertThat(Priority.STANDARD.outranks(Priority.BATCH)).isTrue();
    assertThat(Priority.CRITICAL.outranks(Priority.CRITICAL)).isFalse();
    assertThat(Priority.BATCH.outranks(Priority.STANDARD)).isFalse();
  }

  @Test
  void priorityChoosesQuantile() {
    assertThat(Priority.CRITICAL.quantile()).isEqualTo(0.99);
    assertThat(Priority.STANDARD.quantile()).isEqualTo(0.90);
    assertThat(Priority.BATCH.quantile()).isEqualTo(0.50);
  }

  @Test
  void parsesPriorityAndNamesBadValue() {
    assertThat(Priority.parse(" Critical ")).isEqualTo(Priority.CRITICAL);
    assertThatThrownBy(() -> Priority.parse("urgent"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'urgent'");
  }

  @Test
  void manualClockMovesOnlyForward() {
    ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    clock.advance(Duration.ofNanos(1_500_000));
    assertThat(clock.instant()).isEqualTo(Instant.parse("2026-01-01T00:00:00.0015Z"));
    assertThat(clock.millis()).isEqualTo(Instant.parse("2026-01-01T00:00:00.001Z").toEpochMilli());
    clock.set(Instant.parse("2026-01-01T00:01:00Z"));
    assertThat(clock.instant()).isEqualTo(Instant.parse("2026-01-01T00:01:00Z"));
    assertThatThrownBy(() -> clock.set(Instant.parse("2025-12-31T00:00:00Z")))
        .hasMessageContaining("backwards");
    assertThatThrownBy(() -> clock.advance(Duration.ofSeconds(-1))).hasMessageContaining("backwards");
    assertThat(clock.instant()).isEqualTo(Instant.parse("2026-01-01T00:01:00Z"));
  }
}
