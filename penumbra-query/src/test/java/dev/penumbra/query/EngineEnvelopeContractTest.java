package dev.penumbra.query;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.core.Resources;
import dev.penumbra.core.loop.Actuator;
import dev.penumbra.core.loop.ActuatorContract;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The query loop's actuator (a query's threads and memory limit) under the actuator contract. */
class EngineEnvelopeContractTest extends ActuatorContract {

  @Override
  protected Actuator create() {
    return new EngineEnvelope();
  }

  @Override
  protected Object realState() {
    EngineEnvelope e = (EngineEnvelope) actuator;
    return List.of(e.held(), e.threads());
  }

  @Test
  void aReleasedReservationHoldsNoEnvelope() {
    EngineEnvelope e = (EngineEnvelope) actuator;
    var r = reservation(1, Resources.of(2000, 64L << 20));
    e.acquire(r);
    assertThat(e.of(r)).isEqualTo(r.amount());
    e.release(r);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> e.of(r)).hasMessageContaining("holds no engine envelope");
  }
}
