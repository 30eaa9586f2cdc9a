package dev.penumbra.eval.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ParseStatementsTest {

  @Test
  void aLeadingCommentWithAnApostropheNeitherHidesNorJoinsStatements() {
    String file = """
        -- the customer's orders; top ten
        SELECT o_custkey, count(*) FROM orders GROUP BY 1 ORDER BY 2 DESC LIMIT 10;
        /* a block; with an ' in it */ SELECT 'a;b' AS s, "o_orderkey" FROM orders LIMIT 1;
        SELECT 1 -- trailing comment; not a split
        """;
    List<String> s = QueryBench.parseStatements(file);
    assertThat(s).containsExactly(
        "SELECT o_custkey, count(*) FROM orders GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
        "SELECT 'a;b' AS s, \"o_orderkey\" FROM orders LIMIT 1",
        "SELECT 1");
  }

  @Test
  void emptyStatementsAndUnclosedCommentsAreNamed() {
    assertThatThrownBy(() -> QueryBench.parseStatements("SELECT 1;;")).hasMessageContaining("statement 2 is empty");
    assertThatThrownBy(() -> QueryBench.parseStatements("SELECT 1; /* open"))
        .hasMessageContaining("statement 2").hasMessageContaining("never closed");
    assertThatThrownBy(() -> QueryBench.parseStatements("-- only a comment\n")).hasMessageContaining("no SQL");
  }
}
