package dev.penumbra.core.forecast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What every forecaster must do: one parameterized case per forecaster, so one failure hides no other. */
class ForecastersTest {

  static List<Supplier<ScoredForecaster>> all() {
    return List.of(
        Forecasters::lastValue,
        () -> Forecasters.ewma(0.3),
        () -> Forecasters.holt(0.5, 0.1),
        () -> Forecasters.holtWinters(0.3, 0.05, 0.3, 0),
        () -> Forecasters.holtWinters(0.3, 0.05, 0.3, 12),
        () -> Forecasters.ar(3),
        () -> Forecasters.decayingHistogram(50, 0.5),
        Forecasters::ensemble,
        () -> Forecasters.production(1));
  }

  /** Every forecaster of {@link #all()}, named by its model and position for the test report. */
  static Stream<Arguments> forecasters() {
    List<Supplier<ScoredForecaster>> all = all();
    return java.util.stream.IntStream.range(0, all.size())
        .mapToObj(i -> Arguments.of(Named.of(all.get(i).get().name() + " #" + i, all.get(i))));
  }

  @ParameterizedTest
  @MethodSource("forecasters")
  void constantIsForecastExactly(Supplier<ScoredForecaster> s) {
    ScoredForecaster f = s.get();
    for (int i = 0; i < 300; i++) {
      f.observe(i * 1000L, 42.5);
      if (i > 0) {
        for (int h : new int[] {1, 5, 30}) {
          Forecast fc = f.forecast(h, 0.9);
          assertThat(fc.point()).as(f.name() + " h=" + h + " at " + i).isCloseTo(42.5, within(1e-9));
        }
      }
    }
    Forecast fc = f.forecast(1, 0.9);
    assertThat(fc.lowConfidence()).as(f.name()).isFalse();
    assertThat(fc.upper()).as(f.name()).isCloseTo(42.5, within(1e-9));
  }

  @Test
  void lineIsForecastByHoltAndEnsemble() {
    for (ScoredForecaster f : List.of(Forecasters.holt(0.5, 0.1), Forecasters.ensemble())) {
      for (int i = 0; i < 400; i++) {
        f.observe(i, 10 + 0.5 * i);
      }
      assertThat(f.forecast(1).point()).as(f.name()).isCloseTo(10 + 0.5 * 400, within(0.05));
      assertThat(f.forecast(10).point()).as(f.name()).isCloseTo(10 + 0.5 * 409, within(0.5));
    }
  }

  @ParameterizedTest
  @MethodSource("forecasters")
  void coldStart(Supplier<ScoredForecaster> s) {
    ScoredForecaster f = s.get();
    f.observe(0, 7);
    Forecast fc = f.forecast(3, 0.95);
    assertThat(fc.lowConfidence()).isTrue();
    assertThat(fc.point()).as(f.name()).isCloseTo(7, within(1e-9));
    assertThat(fc.upper()).as(f.name()).isGreaterThan(7).isFinite();
  }
}
