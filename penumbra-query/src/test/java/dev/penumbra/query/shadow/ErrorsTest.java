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

  @Test
  void aCaretUnderAWholeNameMovesBackToo() {
    String engine = "Catalog Error: Table with name nosuch does not exist!\n"
        + "LINE 1: EXPLAIN (FORMAT JSON) select * from nosuch\n"
        + "                                            ^^^^^^";
    String[] lines = Errors.withoutExplain(engine).split("\n");
    assertThat(lines[1]).isEqualTo("LINE 1: select * from nosuch");
    assertThat(lines[2].strip()).isEqualTo("^^^^^^");
    assertThat(lines[2].indexOf('^')).isEqualTo(lines[1].indexOf("nosuch"));
  }

  @Test
  void aHintNamingTheEnginesOwnCatalogIsDroppedAndOneNamingATableKept() {
    String system = "Catalog Error: Table with name nosuch does not exist!\nDid you mean \"pg_sequences\"?\n\n"
        + "LINE 1: select * from nosuch";
    assertThat(Errors.withoutSystemHints(system)).isEqualTo(
        "Catalog Error: Table with name nosuch does not exist!\n\nLINE 1: select * from nosuch");
    assertThat(Errors.withoutSystemHints("Catalog Error: x!\nDid you mean \"main.duckdb_tables\"?"))
        .isEqualTo("Catalog Error: x!\n");
    String user = "Catalog Error: Table with name lineitems does not exist!\nDid you mean \"lineitem\"?";
    assertThat(Errors.withoutSystemHints(user)).isEqualTo(user);
  }
}
