package dev.penumbra.query.shadow;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ErrorsTest {

  @Test
  void theShadowsPlanningPrefixNeverReachesTheClientAndTheCaretStillPointsAtTheMistake() {
    String engine = "Binder Error: Referenced column \"nosuchcol\" not found in FROM clause!\n"
        + "LINE 1: EXPLAIN (FORMAT JSON) SELECT nosuchcol FROM orders\n"
        + "                                     ^";
    String shown = Errors.withoutExplain(engine);
    assertThat(shown).doesNotContain("EXPLAIN");
    String[] lines = shown.split("\n");
    assertThat(lines[1]).isEqualTo("LINE 1: SELECT nosuchcol FROM orders");
    // The caret stands under the 'n' of nosuchcol, as it stood in the engine's message.
    assertThat(lines[2].indexOf('^')).isEqualTo(lines[1].indexOf("nosuchcol"));
    assertThat(Errors.withoutExplain("Parser Error: syntax error at end of input")).isEqualTo(
        "Parser Error: syntax error at end of input");
  }
}
