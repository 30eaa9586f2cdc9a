package dev.penumbra.shard;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Resources;
import dev.penumbra.core.loop.Actuator;
import dev.penumbra.core.loop.ActuatorContract;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The shard loop's actuator (a slot on a live backend) under the actuator contract, on a real in-process backend. */
class BackendSlotsContractTest extends ActuatorContract {

  private InProcessBackend backend;

  @Override
  protected Actuator create() {
    backend = InProcessBackend.of("n1", Resources.of(8000, 1L << 30), 2,
        ShardFunctions.keySum(Duration.ofNanos(1000)));
    return new BackendSlots(Map.of("n1", backend));
  }

  @AfterEach
  void closeBackend() {
    backend.close();
  }

  @Override
  protected Object realState() {
    BackendSlots s = (BackendSlots) actuator;
    return List.of(s.heldByBackend(), s.slots());
  }

  @Test
  void acquiringOnADeadBackendIsRefusedAndHoldsNothing() {
    backend.kill();
    assertThatThrownBy(() -> actuator.acquire(reservation(1, small()))).hasMessage("backend 'n1' is down");
    org.assertj.core.api.Assertions.assertThat(((BackendSlots) actuator).slots()).isZero();
  }
}
