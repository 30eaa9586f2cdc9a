package dev.penumbra.core.predict;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FeaturesTest {

  @Test
  void keepsInsertionOrderAndComparesByContent() {
    Features a = Features.of("rows", 1e6, "joins", 3);
    Features b = Features.builder().put("joins", 3).put("rows", 1e6).build();
    assertThat(a.names()).containsExactly("rows", "joins");
    assertThat(b.names()).containsExactly("joins", "rows");
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    assertThat(a.get("joins")).isEqualTo(3.0);
    assertThat(a.size()).isEqualTo(2);
  }

  @Test
  void isImmutable() {
    Map<String, Double> source = new HashMap<>(Map.of("x", 1.0));
    Features f = new Features(source);
    source.put("y", 2.0);
    assertThat(f.names()).containsExactly("x");
    assertThatThrownBy(() -> f.values().put("z", 3.0)).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void rejectsNonFiniteValuesNamingTheFeature() {
    assertThatThrownBy(() -> Features.of("rows", Double.NaN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'rows'")
        .hasMessageContaining("NaN");
    assertThatThrownBy(() -> Features.builder().put("bytes", Double.POSITIVE_INFINITY))
        .hasMessageContaining("'bytes'")
        .hasMessageContaining("Infinity");
  }

  @Test
  void rejectsBlankOrRepeatedNamesAndLeavesBuilderUnchanged() {
    Features.Builder b = Features.builder().put("x", 1);
    assertThatThrownBy(() -> b.put(" ", 2)).hasMessageContaining("blank");
    assertThatThrownBy(() -> b.put("x", 5)).hasMessageContaining("'x' given twice");
    assertThatThrownBy(() -> b.put("y", Double.NaN)).hasMessageContaining("'y'");
    assertThat(b.build()).isEqualTo(Features.of("x", 1));
  }

  @Test
  void rejectsMalformedPairsAndMissingNames() {
    assertThatThrownBy(() -> Features.of("x")).hasMessageContaining("name/value pairs");
    assertThatThrownBy(() -> Features.of(1, 2)).hasMessageContaining("must be a String");
    assertThatThrownBy(() -> Features.of("x", "two")).hasMessageContaining("'x' must be a number");
    assertThatThrownBy(() -> Features.of("x", 1).get("y")).hasMessageContaining("'y' is not in [x]");
  }
}
