package dev.penumbra.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.query.SqlLexer.Kind;
import dev.penumbra.query.SqlLexer.Token;
import java.util.List;
import org.junit.jupiter.api.Test;

class SqlLexerTest {

  private static List<String> shown(String sql) {
    return SqlLexer.tokens(sql).stream().map(t -> t.kind() + ":" + t.text(sql) + (t.closed() ? "" : "(open)"))
        .toList();
  }

  @Test
  void quotesAndCommentsAreCutAsTheEnginesReadThem() {
    assertThat(shown("SELECT 'it''s', \"a\"\"b\" -- c'\nFROM t /* x; ' */ WHERE y = $$a;'b$$"))
        .containsExactly("CODE:SELECT ", "STRING:'it''s'", "CODE:, ", "QUOTED_NAME:\"a\"\"b\"", "CODE: ",
            "LINE_COMMENT:-- c'", "CODE:\nFROM t ", "BLOCK_COMMENT:/* x; ' */", "CODE: WHERE y = ",
            "DOLLAR_STRING:$$a;'b$$");
    assertThat(shown("SELECT $fn$ a $$ b $fn$, $1, E'it\\'s', e'\\\\', name$$x"))
        .containsExactly("CODE:SELECT ", "DOLLAR_STRING:$fn$ a $$ b $fn$", "CODE:, $1, E", "STRING:'it\\'s'",
            "CODE:, e", "STRING:'\\\\'", "CODE:, name$$x");
    // A backslash escapes only after a standalone E: here it is an ordinary character.
    assertThat(shown("SELECT 'a\\', x")).containsExactly("CODE:SELECT ", "STRING:'a\\'", "CODE:, x");
  }

  @Test
  void whatIsNeverClosedRunsToTheEndAndSaysSo() {
    assertThat(shown("SELECT 'open")).containsExactly("CODE:SELECT ", "STRING:'open(open)");
    assertThat(shown("SELECT 'it''")).containsExactly("CODE:SELECT ", "STRING:'it''(open)");
    assertThat(shown("x /* open")).containsExactly("CODE:x ", "BLOCK_COMMENT:/* open(open)");
    assertThat(shown("x $q$ open $$")).containsExactly("CODE:x ", "DOLLAR_STRING:$q$ open $$(open)");
    assertThat(shown("x -- to the end")).containsExactly("CODE:x ", "LINE_COMMENT:-- to the end");
    assertThat(SqlLexer.tokens("")).isEmpty();
  }

  @Test
  void tokensCoverTheWholeTextInOrder() {
    String sql = "a'b'\"c\"--d\n/*e*/$$f$$g";
    List<Token> t = SqlLexer.tokens(sql);
    int at = 0;
    for (Token k : t) {
      assertThat(k.start()).isEqualTo(at);
      at = k.end();
    }
    assertThat(at).isEqualTo(sql.length());
    assertThat(t).extracting(Token::kind).containsExactly(Kind.CODE, Kind.STRING, Kind.QUOTED_NAME,
        Kind.LINE_COMMENT, Kind.CODE, Kind.BLOCK_COMMENT, Kind.DOLLAR_STRING, Kind.CODE);
  }

  @Test
  void aLeadingCommentWithAnApostropheNeitherHidesNorJoinsStatements() {
    String file = """
        -- the customer's orders; top ten
        SELECT o_custkey, count(*) FROM orders GROUP BY 1 ORDER BY 2 DESC LIMIT 10;
        /* a block; with an ' in it */ SELECT 'a;b' AS s, "o_orderkey" FROM orders LIMIT 1;
        SELECT $$x;y$$, E'\\';' AS t;
        SELECT 1 -- trailing comment; not a split
        """;
    assertThat(SqlLexer.statements(file)).containsExactly(
        "SELECT o_custkey, count(*) FROM orders GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
        "SELECT 'a;b' AS s, \"o_orderkey\" FROM orders LIMIT 1",
        "SELECT $$x;y$$, E'\\';' AS t",
        "SELECT 1");
  }

  @Test
  void emptyStatementsAndUnclosedCommentsAreNamed() {
    assertThatThrownBy(() -> SqlLexer.statements("SELECT 1;;")).hasMessageContaining("statement 2 is empty");
    assertThatThrownBy(() -> SqlLexer.statements("SELECT 1; /* open"))
        .hasMessageContaining("statement 2").hasMessageContaining("never closed");
    assertThatThrownBy(() -> SqlLexer.statements("-- only a comment\n")).hasMessageContaining("no SQL");
    assertThatThrownBy(() -> SqlLexer.tokens(null)).hasMessageContaining("sql");
  }
}
