package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The product's one mapper: camelCase record components, NaN and infinities as null, strict reading. */
class JsonTest {

  record Named(String name) {}

  record Figures(String modeName, double p99Ms, Double ratio, float share, List<Double> values) {}

  @Test
  void recordsKeepTheirCamelCaseComponentNamesAndNonFiniteNumbersBecomeNull() throws Exception {
    String s = Json.MAPPER.writeValueAsString(new Figures("penumbra", Double.NaN, Double.POSITIVE_INFINITY,
        Float.NaN, List.of(1.5, Double.NEGATIVE_INFINITY)));
    assertThat(s).isEqualTo(
        "{\"modeName\":\"penumbra\",\"p99Ms\":null,\"ratio\":null,\"share\":null,\"values\":[1.5,null]}");
  }

  @Test
  void treesAndMapsWriteNonFiniteNumbersAsNullToo() throws Exception {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("gap", Double.NaN);
    n.put("ok", 0.25);
    assertThat(Json.MAPPER.writeValueAsString(n)).isEqualTo("{\"gap\":null,\"ok\":0.25}");
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("oracle", Double.NaN);
    assertThat(Json.MAPPER.writeValueAsString(m)).isEqualTo("{\"oracle\":null}");
  }

  @Test
  void prettyIsIndentedAndParsesBackToTheSameValues() throws Exception {
    String s = Json.pretty(new Figures("x", 2, 0.5, 1f, List.of()));
    assertThat(s).contains("\n").contains("\"p99Ms\" : 2.0");
    JsonNode back = Json.MAPPER.readTree(s);
    assertThat(back.get("ratio").asDouble()).isEqualTo(0.5);
  }

  @Test
  void readingRefusesUnknownFieldsAndTrailingTokens() {
    assertThatThrownBy(() -> Json.MAPPER.readValue("{\"name\":\"a\",\"bogus\":1}", Named.class))
        .hasMessageContaining("bogus");
    assertThatThrownBy(() -> Json.MAPPER.readTree("{} {}")).hasMessageContaining("Trailing token");
  }
}
