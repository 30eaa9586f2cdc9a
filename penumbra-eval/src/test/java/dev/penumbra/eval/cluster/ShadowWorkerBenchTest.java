package dev.penumbra.eval.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The N-machine projection of the shadow-worker benchmark from measured CPU per shadow. */
class ShadowWorkerBenchTest {

  private static ShadowWorkerBench.Level level(int workers, double controlMs, double workerMs) {
    return new ShadowWorkerBench.Level(workers, false, 100, 10, 50, 100, controlMs, workerMs, workers > 0 ? 100 : 0,
        workers > 0 ? 0 : 100, 0, 0, Double.NaN, Double.NaN);
  }

  @Test
  void workersAddCapacityUntilTheControlPlanesDispatchBoundsIt() {
    List<String> p = ShadowWorkerBench.projection(List.of(level(0, 10, 0), level(1, 6, 30), level(3, 5, 20)), 2);
    // local: 2 cores / 10 ms = 200/s; each worker core 1000/20 = 50/s; dispatch 2 cores / 5 ms = 400/s
    assertThat(p.get(0)).contains("at most 200 shadows/s");
    assertThat(p).anyMatch(l -> l.contains(" 1 worker machines of 2 cores: about 100 shadows/s"));
    assertThat(p).anyMatch(l -> l.contains(" 2 worker machines of 2 cores: about 200 shadows/s"));
    assertThat(p).anyMatch(l -> l.contains(" 8 worker machines of 2 cores: about 400 shadows/s (the control plane's"));
  }

  @Test
  void withoutAWorkerLevelOnlyTheLocalBoundIsProjected() {
    assertThat(ShadowWorkerBench.projection(List.of(level(0, 10, 0)), 2)).hasSize(1);
  }
}
