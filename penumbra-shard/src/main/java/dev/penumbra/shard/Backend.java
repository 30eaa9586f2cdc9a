package dev.penumbra.shard;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A task engine that runs shards on pre-allocated reservations. It is a node of the ledger under the same id, with
 * the same capacity; its pools are per priority. Implementations: {@link InProcessBackend}; benchmarks plug in
 * simulated ones.
 */
public interface Backend {

  /** Its id, also its node's id in the ledger. */
  String id();

  /** What it can run at once; registered as its node's capacity. */
  Resources capacity();

  /**
   * Starts an attempt on its reservation. {@code done} is called once with the outcome, on any thread, unless the
   * backend dies first (then never: the sweeper notices).
   */
  void submit(Attempt attempt, Consumer<AttemptResult> done);

  /** Stops an attempt if it still runs (best effort; its outcome may still arrive). */
  void cancel(String attemptId);

  /** False once it died; a dead backend runs nothing more. */
  boolean alive();

  /** Share of each priority pool busy now, in [0, 1]. */
  Map<Priority, Double> utilization();

  /** What a running attempt uses now, when measured. */
  default Optional<Resources> usage(String attemptId) {
    return Optional.empty();
  }
}
