package dev.penumbra.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ChecksTest {

  @Test
  void refusalsNameTheFieldTheRuleAndTheValue() {
    assertThatThrownBy(() -> Checks.notNull("clock", null)).hasMessage("clock must not be null");
    assertThatThrownBy(() -> Checks.atLeast("maxRows", -1, 0)).hasMessage("maxRows must be >= 0, was -1");
    assertThatThrownBy(() -> Checks.atLeast("firstId", 0L, 1L)).hasMessage("firstId must be >= 1, was 0");
    assertThatThrownBy(() -> Checks.atLeast("margin", -0.5, 0.0)).hasMessage("margin must be finite and >= 0, was -0.5");
    assertThatThrownBy(() -> Checks.atLeast("factor", 1.5, 2.5)).hasMessage("factor must be finite and >= 2.5, was 1.5");
    assertThatThrownBy(() -> Checks.positive("minMemory", 0L)).hasMessage("minMemory must be > 0, was 0");
    assertThatThrownBy(() -> Checks.positive("scale", 0.0)).hasMessage("scale must be finite and > 0, was 0.0");
    assertThatThrownBy(() -> Checks.positive("lease", Duration.ZERO)).hasMessage("lease must be > 0, was PT0S");
    assertThatThrownBy(() -> Checks.positive("lease", (Duration) null)).hasMessage("lease must be > 0, was null");
    assertThatThrownBy(() -> Checks.notNegative("grace", Duration.ofSeconds(-1)))
        .hasMessage("grace must be >= 0, was PT-1S");
    assertThatThrownBy(() -> Checks.share("shadowBudget", 1.5)).hasMessage("shadowBudget must be in (0, 1], was 1.5");
  }

  @Test
  void nanAndInfinityAreRefusedWhereANumberIsBounded() {
    assertThatThrownBy(() -> Checks.atLeast("margin", Double.NaN, 0.0)).hasMessageContaining("was NaN");
    assertThatThrownBy(() -> Checks.atLeast("margin", Double.POSITIVE_INFINITY, 0.0))
        .hasMessageContaining("was Infinity");
    assertThatThrownBy(() -> Checks.positive("scale", Double.NaN)).hasMessageContaining("was NaN");
    assertThatThrownBy(() -> Checks.share("shadowBudget", Double.NaN)).hasMessageContaining("was NaN");
  }

  @Test
  void acceptedValuesComeBackUnchanged() {
    assertThat(Checks.notNull("x", "a")).isEqualTo("a");
    assertThat(Checks.atLeast("n", 1, 1)).isEqualTo(1);
    assertThat(Checks.atLeast("n", 5L, 1L)).isEqualTo(5L);
    assertThat(Checks.atLeast("m", 0.0, 0.0)).isEqualTo(0.0);
    assertThat(Checks.positive("s", 0.1)).isEqualTo(0.1);
    assertThat(Checks.positive("b", 1L)).isEqualTo(1L);
    assertThat(Checks.positive("d", Duration.ofMillis(1))).isEqualTo(Duration.ofMillis(1));
    assertThat(Checks.notNegative("g", Duration.ZERO)).isEqualTo(Duration.ZERO);
    assertThat(Checks.share("f", 1.0)).isEqualTo(1.0);
  }
}
