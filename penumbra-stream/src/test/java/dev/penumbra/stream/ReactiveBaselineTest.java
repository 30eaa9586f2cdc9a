package dev.penumbra.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Sla;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ReactiveBaselineTest {

  final PlannerConfig config = PlannerConfig.defaults().withWorkers(1, 16);
  final Sla sla = Sla.of(Priority.STANDARD);

  long size(ReactiveBaseline b, int second, double rate) {
    Resources r = b.size(new PartitionSignal(0, second * 1000L, rate, 0.001, 0, 1), sla, null);
    return r.cpuMillis();
  }

  @Test
  void scalesUpAfterTheLagAndDownOnlyAfterTheDelay() {
    ReactiveBaseline b = new ReactiveBaseline(1.0, 5, config, () -> Duration.ofSeconds(3), Duration.ofSeconds(10));
    assertThat(size(b, 0, 100)).isEqualTo(100);
    // The rise is asked for at once but served only after the 3 s lag.
    assertThat(size(b, 1, 2000)).isEqualTo(100);
    assertThat(size(b, 3, 2000)).isEqualTo(100);
    assertThat(size(b, 4, 2000)).isEqualTo(2000);
    for (int t = 5; t < 20; t++) {
      size(b, t, 2000);
    }
    // The rate fell: held for the 10 s delay after the last high request, then dropped.
    assertThat(size(b, 20, 0)).isEqualTo(2000);
    assertThat(size(b, 28, 0)).isEqualTo(2000);
    assertThat(size(b, 30, 0)).isEqualTo(0);
  }

  @Test
  void withoutADelayItScalesDownAtOnce() {
    ReactiveBaseline b = new ReactiveBaseline(1.0, 5, config, () -> Duration.ofSeconds(3));
    for (int t = 0; t < 10; t++) {
      size(b, t, 2000);
    }
    assertThat(size(b, 10, 0)).isEqualTo(0);
  }

  @Test
  void aNegativeDelayIsRejected() {
    assertThatThrownBy(() -> new ReactiveBaseline(1.0, 5, config, () -> Duration.ZERO, Duration.ofSeconds(-1)))
        .hasMessage("reactive scaleDownDelay must be >= 0, was PT-1S");
  }
}
