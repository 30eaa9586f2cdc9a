package dev.penumbra.query.predict;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FingerprintTest {
  @Test
  void literalsWhitespaceAndCaseAreNormalised() {
    String a = "SELECT sum(l_extendedprice)  FROM lineitem\n WHERE l_quantity < 24 AND l_shipdate >= DATE '1994-01-01'";
    String b = "select SUM(l_extendedprice) from lineitem where l_quantity < 3.5e2 and l_shipdate >= date '1995-06-01';";
    assertThat(Fingerprint.normalize(a))
        .isEqualTo("select sum(l_extendedprice) from lineitem where l_quantity < ? and l_shipdate >= date '?'");
    assertThat(Fingerprint.of(a)).isEqualTo(Fingerprint.of(b)).hasSize(16);
    assertThat(Fingerprint.of(a)).isNotEqualTo(Fingerprint.of(a.replace("<", ">")));
  }

  @Test
  void theTypeOfALiteralIsPartOfTheShape() {
    // A string where a number was could fail to convert: it must not pass as a known, validated shape.
    assertThat(Fingerprint.of("SELECT * FROM orders WHERE o_orderkey = 5"))
        .isNotEqualTo(Fingerprint.of("SELECT * FROM orders WHERE o_orderkey = 'x'"))
        .isEqualTo(Fingerprint.of("SELECT * FROM orders WHERE o_orderkey = 77"));
  }

  @Test
  void digitsInsideNamesAndQuotedIdentifiersAreKept() {
    assertThat(Fingerprint.normalize("SELECT t1.c2 FROM \"T1\" t1 -- note 5\n WHERE x = 'it''s' /* 7 */ LIMIT 10"))
        .isEqualTo("select t1.c2 from \"T1\" t1 where x = '?' limit ?");
  }
}
