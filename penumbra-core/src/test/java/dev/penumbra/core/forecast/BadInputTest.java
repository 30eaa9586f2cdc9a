package dev.penumbra.core.forecast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BadInputTest {

  static Stream<Arguments> badValuesPerForecaster() {
    return ForecastersTest.forecasters().flatMap(f -> Stream.of(Double.NaN, Double.POSITIVE_INFINITY,
        Double.NEGATIVE_INFINITY, -0.5).map(bad -> Arguments.of(f.get()[0], bad)));
  }

  @ParameterizedTest
  @MethodSource("badValuesPerForecaster")
  void badValuesAreRejectedAndChangeNothing(Supplier<ScoredForecaster> s, double bad) {
    ScoredForecaster f = s.get();
    ScoredForecaster twin = s.get();
    for (int t = 0; t < 60; t++) {
      f.observe(t, 10 + t % 7);
      twin.observe(t, 10 + t % 7);
    }
    f.forecast(3);
    twin.forecast(3);
    assertThatThrownBy(() -> f.observe(100, bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("value")
        .hasMessageContaining(String.valueOf(bad));
    assertUnchanged(f, twin);
  }

  @ParameterizedTest
  @MethodSource("dev.penumbra.core.forecast.ForecastersTest#forecasters")
  void timeGoingBackwardsIsRejectedAndChangesNothing(Supplier<ScoredForecaster> s) {
    ScoredForecaster f = s.get();
    ScoredForecaster twin = s.get();
    for (int t = 0; t < 60; t++) {
      f.observe(1000 + t, 5 + t % 3);
      twin.observe(1000 + t, 5 + t % 3);
    }
    assertThatThrownBy(() -> f.observe(999, 5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("timeMillis")
        .hasMessageContaining("999");
    assertUnchanged(f, twin);
    f.observe(10_000, 6); // an equal time is allowed
  }

  private static void assertUnchanged(ScoredForecaster f, ScoredForecaster twin) {
    assertThat(f.observations()).isEqualTo(twin.observations());
    for (int h : new int[] {1, 3}) {
      assertThat(f.forecast(h, 0.9)).as(f.name()).isEqualTo(twin.forecast(h, 0.9));
    }
    f.observe(10_000, 9);
    twin.observe(10_000, 9);
    assertThat(f.forecast(1)).isEqualTo(twin.forecast(1));
    assertThat(f.stats()).isEqualTo(twin.stats());
  }

  @Test
  void badHorizonAndLevel() {
    ScoredForecaster f = Forecasters.ewma(0.5);
    f.observe(0, 1);
    assertThatThrownBy(() -> f.forecast(0, 0.9)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("horizon").hasMessageContaining("0");
    for (double level : new double[] {0, 1, -0.1, 1.5, Double.NaN}) {
      assertThatThrownBy(() -> f.forecast(1, level)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("level").hasMessageContaining(String.valueOf(level));
    }
    assertThatThrownBy(() -> f.stats(-2)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("horizon").hasMessageContaining("-2");
  }

  @Test
  void badParameters() {
    List<Runnable> bad = List.of(
        () -> Forecasters.ewma(0),
        () -> Forecasters.ewma(1.01),
        () -> Forecasters.ewma(Double.NaN),
        () -> Forecasters.holt(0.5, 0),
        () -> Forecasters.holtWinters(0.5, 0.1, 2, 12),
        () -> Forecasters.holtWinters(0.5, 0.1, 0.1, 1),
        () -> Forecasters.holtWinters(0.5, 0.1, 0.1, -3),
        () -> Forecasters.ar(0),
        () -> Forecasters.ar(1000),
        () -> Forecasters.decayingHistogram(0, 0.5),
        () -> Forecasters.decayingHistogram(10, 0),
        () -> Forecasters.decayingHistogram(10, 1.2));
    List<String> fields = List.of("alpha", "alpha", "alpha", "beta", "gamma", "season", "season", "p", "p",
        "halfLife", "percentile", "percentile");
    List<String> values = List.of("0.0", "1.01", "NaN", "0.0", "2.0", "1", "-3", "0", "1000", "0", "0.0", "1.2");
    for (int i = 0; i < bad.size(); i++) {
      Runnable r = bad.get(i);
      assertThatThrownBy(r::run).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(fields.get(i)).hasMessageContaining(values.get(i));
    }
    assertThat(Forecasters.ewma(1).name()).isEqualTo("ewma(1.0)");
  }

  @Test
  void beforeAnyObservationTheForecastIsZeroAndLowConfidence() {
    Forecast f = Forecasters.ensemble().forecast(2, 0.95);
    assertThat(f.point()).isZero();
    assertThat(f.upper()).isZero();
    assertThat(f.lowConfidence()).isTrue();
  }
}
