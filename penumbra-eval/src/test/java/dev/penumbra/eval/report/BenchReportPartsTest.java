package dev.penumbra.eval.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The pieces every benchmark report shares: aligned tables, targets, camelCase JSON keys. */
class BenchReportPartsTest {

  @Test
  void tablesAlignTheFirstColumnLeftAndTheOthersRight() {
    String t = Tables.aligned(List.of(new String[] {"mode", "p99 ms"}, new String[] {"penumbra", "1.5"},
        new String[] {"static", "1234.5"}));
    String nl = System.lineSeparator();
    assertThat(t).isEqualTo("mode      p99 ms" + nl + "penumbra     1.5" + nl + "static    1234.5" + nl);
  }

  @Test
  void targetsAreMetOnTheRightSideOfTheBoundAndNeverOnNaN() {
    assertThat(Target.atMost(0.7, 0.5).met()).isTrue();
    assertThat(Target.atMost(0.7, 0.7).met()).isTrue();
    assertThat(Target.atMost(0.7, 0.71).met()).isFalse();
    assertThat(Target.atLeast(0.9, 0.95).met()).isTrue();
    assertThat(Target.atLeast(0.9, 0.85).met()).isFalse();
    assertThat(Target.atMost(0.7, Double.NaN).met()).isFalse();
    assertThat(Target.atLeast(0.9, Double.NaN).met()).isFalse();
  }

  @Test
  void snakeCaseLabelsBecomeCamelCaseKeys() {
    assertThat(Keys.camel("p99_latency_to_reactive")).isEqualTo("p99LatencyToReactive");
    assertThat(Keys.camel("slack_at_budget")).isEqualTo("slackAtBudget");
    assertThat(Keys.camel("slack")).isEqualTo("slack");
    assertThat(Keys.camel("_leading")).isEqualTo("leading");
  }
}
