package dev.penumbra.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Resources.Dimension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ResourcesTest {

  private static final long MIB = 1L << 20;
  private static final long GIB = 1L << 30;

  @Test
  void arithmeticIsComponentWise() {
    Resources a = new Resources(1500, 2 * GIB, 10, 20);
    Resources b = new Resources(500, GIB, 5, 30);
    assertThat(a.plus(b)).isEqualTo(new Resources(2000, 3 * GIB, 15, 50));
    assertThat(a.max(b)).isEqualTo(new Resources(1500, 2 * GIB, 10, 30));
    assertThat(a.min(b)).isEqualTo(new Resources(500, GIB, 5, 20));
    assertThat(a.minusClamped(b)).isEqualTo(new Resources(1000, GIB, 5, 0));
    assertThat(a.scale(2)).isEqualTo(new Resources(3000, 4 * GIB, 20, 40));
    assertThat(Resources.cpu(3).scale(0.5)).isEqualTo(Resources.cpu(2)); // rounds up: a need stays covered
  }

  @Test
  void fitsRequiresEveryDimension() {
    Resources cap = new Resources(2000, 4 * GIB, 100, 100);
    assertThat(new Resources(2000, 4 * GIB, 100, 100).fits(cap)).isTrue();
    assertThat(new Resources(2001, 0, 0, 0).fits(cap)).isFalse();
    assertThat(new Resources(0, 0, 0, 101).fits(cap)).isFalse();
    assertThat(Resources.ZERO.fits(Resources.ZERO)).isTrue();
  }

  @Test
  void minusThatWouldGoNegativeFailsNamingBoth() {
    assertThatThrownBy(() -> Resources.cpu(1).minus(Resources.cpu(2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cpu=1m")
        .hasMessageContaining("cpu=2m");
  }

  @Test
  void negativeAmountsAreRejectedNamingTheField() {
    assertThatThrownBy(() -> new Resources(0, -1, 0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("memoryBytes must be >= 0, was -1");
    assertThatThrownBy(() -> Resources.cpu(1).scale(Double.NaN)).hasMessageContaining("NaN");
    assertThatThrownBy(() -> Resources.cpu(1).scale(-1)).hasMessageContaining("-1");
  }

  @Test
  void overflowThrowsInsteadOfWrapping() {
    Resources big = Resources.cpu(Long.MAX_VALUE);
    assertThatThrownBy(() -> big.plus(Resources.cpu(1))).isInstanceOf(ArithmeticException.class);
    assertThatThrownBy(() -> big.scale(2)).isInstanceOf(ArithmeticException.class);
  }

  @ParameterizedTest
  @CsvSource({
    "2.5 cores, 2500", "2.5, 2500", "1 core, 1000", "500m, 500", "250 millicores, 250", ".5, 500", "4 vcpus, 4000"
  })
  void parsesCpu(String text, long millis) {
    assertThat(Resources.parseCpuMillis(text)).isEqualTo(millis);
  }

  @ParameterizedTest
  @CsvSource({
    "512MiB, 536870912", "1.5 GiB, 1610612736", "100MB, 100000000", "4096, 4096", "4096B, 4096", "2k, 2048",
    "1Ki, 1024", "3 kB, 3000", "1TiB, 1099511627776"
  })
  void parsesBytes(String text, long bytes) {
    assertThat(Resources.parseBytes(text)).isEqualTo(bytes);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "abc", "-1MiB", "12 parsecs", "1..5GiB", "MiB", "1e9"})
  void malformedUnitStringsNameTheText(String text) {
    assertThatThrownBy(() -> Resources.parseBytes(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text + "'");
  }

  @Test
  void malformedCpuNamesUnit() {
    assertThatThrownBy(() -> Resources.parseCpuMillis("3 GiB"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown unit 'GiB'");
    assertThatThrownBy(() -> Resources.parseCpuMillis(null)).hasMessageContaining("missing");
  }

  @Test
  void formatAndParseRoundTrip() {
    Resources r = new Resources(2500, 512 * MIB, 10 * MIB, 1536 * 1024);
    assertThat(r.toString()).isEqualTo("cpu=2.5 cores, memory=512MiB, io=10MiB/s, network=1.5MiB/s");
    assertThat(Resources.parse(r.toString())).isEqualTo(r);
    assertThat(Resources.parse("memory=1GiB")).isEqualTo(Resources.memory(GIB));
    assertThat(Resources.formatCpu(500)).isEqualTo("500m");
    assertThat(Resources.formatCpu(1000)).isEqualTo("1 core");
    assertThat(Resources.formatBytes(100)).isEqualTo("100B");
  }

  @Test
  void parseRejectsUnknownDimension() {
    assertThatThrownBy(() -> Resources.parse("gpu=1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'gpu'");
    assertThatThrownBy(() -> Resources.parse("cpu 1")).hasMessageContaining("'cpu 1'");
  }

  @Test
  void dimensionsAreAddressable() {
    Resources r = new Resources(1, 2, 3, 4);
    for (Dimension d : Dimension.values()) {
      assertThat(r.with(d, 9).get(d)).isEqualTo(9);
    }
    assertThat(Dimension.parse("Memory")).isEqualTo(Dimension.MEMORY);
    assertThat(new Resources(500, GIB, 0, 0).dominantShare(new Resources(1000, 4 * GIB, 0, 0))).isEqualTo(0.5);
  }
}
