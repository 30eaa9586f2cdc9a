package dev.penumbra.task;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.loop.Actuator;
import dev.penumbra.core.loop.ActuatorContract;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;

/**
 * The task loop's actuator under the actuator contract: real memory blocks (1 MiB, allocated and touched) and
 * worker threads per task, for two registered tasks, warm-ups run inline so every step is done when it returns.
 */
class GrantPoolContractTest extends ActuatorContract {

  private Scripted world;
  private final List<TaskRun> runs = new ArrayList<>();

  @Override
  protected Actuator create() {
    world = new Scripted(Resources.of(16_000, 1L << 30));
    runs.clear();
    for (int i = 0; i < 2; i++) {
      runs.add(world.executor.register(TaskSpec.of("contract", Priority.STANDARD), 2_000_000 + i));
    }
    return world.executor.pool();
  }

  @AfterEach
  void closeExecutor() {
    world.executor.close();
  }

  /** Reservation 1 is the first task's, 2 the second's, each held in the executor's ledger as the loop would. */
  @Override
  protected Reservation reservation(long n, Resources amount) {
    return world.ledger.reserve(runs.get((int) n - 1).id, "jvm", amount, Priority.STANDARD, Duration.ofMinutes(1));
  }

  /** The pool follows the ledger's amount, so the resize is made there first, as the loop makes it. */
  @Override
  protected Reservation resized(Reservation r, Resources amount) {
    return world.ledger.resize(r.id(), amount);
  }

  @Override
  protected Reservation ended(Reservation r) {
    return world.ledger.release(r.id());
  }

  /** What each task owns: memory blocks and worker threads (filled now or to be filled by the task). */
  @Override
  protected Object realState() {
    List<List<Integer>> out = new ArrayList<>();
    for (TaskRun r : runs) {
      synchronized (r) {
        out.add(List.of(r.memory.owned, r.threads.owned));
      }
    }
    return out;
  }
}
