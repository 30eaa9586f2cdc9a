package dev.penumbra.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SamplingTest {

  @ParameterizedTest
  @ValueSource(doubles = {0.01, 0.05, 0.3, 1.0})
  void everyNthTakesExactlyTheRateEvenlySpaced(double rate) {
    Sampling.Sampler s = Sampling.everyNth(rate).sampler(0);
    int taken = 0;
    int lastTaken = -1;
    int maxGap = 0;
    for (int i = 0; i < 100_000; i++) {
      if (s.test("k" + i)) {
        taken++;
        if (lastTaken >= 0) {
          maxGap = Math.max(maxGap, i - lastTaken);
        }
        lastTaken = i;
      }
    }
    assertThat(taken).isEqualTo((int) Math.floor(100_000 * rate + 1e-9));
    assertThat(maxGap).isLessThanOrEqualTo((int) Math.ceil(1 / rate));
  }

  @ParameterizedTest
  @ValueSource(doubles = {0.01, 0.05, 0.5})
  void bernoulliIsWithinFourSigmaAndReproducible(double rate) {
    int n = 200_000;
    Sampling sampling = Sampling.bernoulli(rate, 42);
    Sampling.Sampler a = sampling.sampler(3);
    Sampling.Sampler b = sampling.sampler(3);
    int taken = 0;
    for (int i = 0; i < n; i++) {
      boolean x = a.test(null);
      assertThat(b.test(null)).isEqualTo(x);
      taken += x ? 1 : 0;
    }
    double sigma = Math.sqrt(n * rate * (1 - rate));
    assertThat((double) taken).isBetween(n * rate - 4 * sigma, n * rate + 4 * sigma);
  }

  @Test
  void bernoulliPartitionsDrawDifferentSequences() {
    Sampling sampling = Sampling.bernoulli(0.5, 7);
    Sampling.Sampler p0 = sampling.sampler(0);
    Sampling.Sampler p1 = sampling.sampler(1);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
      differ += p0.test(null) != p1.test(null) ? 1 : 0;
    }
    assertThat(differ).isBetween(400, 600);
  }

  @Test
  void keyedTakesAKeyAlwaysOrNeverAndTheRateOfKeys() {
    double rate = 0.05;
    Sampling.Sampler s = Sampling.keyed(rate).sampler(0);
    Map<String, Boolean> decided = new HashMap<>();
    int keys = 50_000;
    for (int round = 0; round < 3; round++) {
      for (int k = 0; k < keys; k++) {
        String key = "user-" + k;
        boolean t = s.test(key);
        Boolean before = decided.putIfAbsent(key, t);
        if (before != null) {
          assertThat(t).as("key %s decided the same every time", key).isEqualTo(before);
        }
        assertThat(Sampling.keyedTakes(key, rate, 0)).isEqualTo(t);
      }
    }
    long taken = decided.values().stream().filter(b -> b).count();
    double sigma = Math.sqrt(keys * rate * (1 - rate));
    assertThat((double) taken).isBetween(keys * rate - 4 * sigma, keys * rate + 4 * sigma);
  }

  @Test
  void badRateIsRejectedNamingTheValue() {
    for (double bad : new double[] {0, -0.1, 1.5, Double.NaN}) {
      assertThatThrownBy(() -> Sampling.everyNth(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("sampling rate must be in (0, 1]")
          .hasMessageContaining(String.valueOf(bad));
    }
    assertThatThrownBy(() -> Sampling.Mode.parse("reservoir"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'reservoir'");
    assertThat(Sampling.Mode.parse("Every-Nth")).isEqualTo(Sampling.Mode.EVERY_NTH);
  }
}
