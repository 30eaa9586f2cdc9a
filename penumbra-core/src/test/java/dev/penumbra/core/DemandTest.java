package dev.penumbra.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class DemandTest {

  @Test
  void priorityQuantileSelectsTheConservativeKnownLevel() {
    TreeMap<Double, Resources> q = new TreeMap<>();
    q.put(0.9, Resources.cpu(150));
    q.put(0.99, Resources.cpu(300));
    Demand d = new Demand(Resources.cpu(100), q, "m", false);
    assertThat(d.at(Priority.BATCH.quantile())).isEqualTo(Resources.cpu(100));
    assertThat(d.at(Priority.STANDARD.quantile())).isEqualTo(Resources.cpu(150));
    assertThat(d.at(0.95)).isEqualTo(Resources.cpu(300));
    assertThat(d.at(Priority.CRITICAL.quantile())).isEqualTo(Resources.cpu(300));
    assertThat(d.at(0.999)).isEqualTo(Resources.cpu(300));
  }

  @Test
  void upperBelowPointIsRaisedToThePoint() {
    Demand d = Demand.of(Resources.cpu(100), 0.9, Resources.cpu(50), "m", true);
    assertThat(d.at(0.9)).isEqualTo(Resources.cpu(100));
    assertThat(d.lowConfidence()).isTrue();
  }

  @Test
  void badLevelsAreNamed() {
    assertThatThrownBy(() -> Demand.of(Resources.ZERO, 1.0, Resources.ZERO, "m", false))
        .hasMessageContaining("1.0");
    assertThatThrownBy(() -> Demand.exact(Resources.ZERO, "m").at(0)).hasMessageContaining("was 0.0");
  }
}
