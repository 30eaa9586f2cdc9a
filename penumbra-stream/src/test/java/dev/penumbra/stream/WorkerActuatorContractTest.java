package dev.penumbra.stream;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.loop.Actuator;
import dev.penumbra.core.loop.ActuatorContract;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The stream loop's actuator under the actuator contract, scaling the real embedded runtime's worker threads
 * (one worker per started core, between 1 and 8; a released partition falls back to one).
 */
class WorkerActuatorContractTest extends ActuatorContract {

  private EmbeddedStream stream;

  @Override
  protected Actuator create() {
    stream = EmbeddedStream.builder(4, record -> {}).maxWorkers(8).build();
    return new WorkerActuator(stream, PlannerConfig.defaults().withWorkers(1, 8), null);
  }

  @AfterEach
  void closeStream() {
    stream.close();
  }

  @Override
  protected Object realState() {
    List<Integer> workers = new ArrayList<>();
    for (int p = 0; p < stream.partitions(); p++) {
      workers.add(stream.workers(p));
    }
    return workers;
  }

  @Test
  void acquiringOnAClosedRuntimeIsRefused() {
    stream.close();
    assertThatThrownBy(() -> actuator.acquire(reservation(1, small()))).hasMessage("stream is closed");
  }
}
