package dev.penumbra.eval.shard;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.shard.Attempt;
import dev.penumbra.shard.AttemptResult;
import dev.penumbra.shard.Backend;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A backend of fixed capacity in simulated time: an attempt lasts what the trace says its keys take on its
 * reservation, then reports; a killed backend reports nothing more.
 *
 * <p>Kept apart from the product's {@code InProcessBackend}, whose accessors it shares: that one runs real threads,
 * this one the bench's event loop in simulated time, so that a run of hours of trace takes seconds.
 */
final class SimBackend implements Backend {

  /** What running a shard on a reservation takes: its duration, the CPU it uses, and when it fails (or -1). */
  record Run(long millis, long usedMillicores, long failAfterMillis) {}

  interface Model {
    Run run(Attempt attempt);
  }

  private final String id;
  private final Resources capacity;
  private final EventLoop loop;
  private final Model model;
  private final Map<String, Long> running = new HashMap<>();
  private long busyMillicores;
  private boolean alive = true;

  SimBackend(String id, Resources capacity, EventLoop loop, Model model) {
    this.id = id;
    this.capacity = capacity;
    this.loop = loop;
    this.model = model;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public Resources capacity() {
    return capacity;
  }

  @Override
  public void submit(Attempt attempt, Consumer<AttemptResult> done) {
    if (!alive) {
      return;
    }
    Run r = model.run(attempt);
    long cpu = attempt.reserved().cpuMillis();
    running.put(attempt.id(), cpu);
    busyMillicores += cpu;
    long start = loop.now();
    boolean fails = r.failAfterMillis() >= 0;
    long at = start + (fails ? r.failAfterMillis() : r.millis());
    loop.at(at, () -> {
      Long held = running.remove(attempt.id());
      if (held == null || !alive) {
        return;
      }
      busyMillicores -= held;
      Duration ran = Duration.ofMillis(at - start);
      done.accept(fails
          ? AttemptResult.failure(attempt.id(), id, "task failed (trace status Failed)", ran)
          : AttemptResult.success(attempt.id(), id, attempt.shard().keys(), Resources.cpu(r.usedMillicores()), ran));
    });
  }

  @Override
  public void cancel(String attemptId) {
    Long held = running.remove(attemptId);
    if (held != null) {
      busyMillicores -= held;
    }
  }

  @Override
  public boolean alive() {
    return alive;
  }

  void kill() {
    alive = false;
    running.clear();
    busyMillicores = 0;
  }

  @Override
  public Map<Priority, Double> utilization() {
    Map<Priority, Double> m = new EnumMap<>(Priority.class);
    double u = alive ? (double) busyMillicores / capacity.cpuMillis() : 0;
    for (Priority p : Priority.values()) {
      m.put(p, u);
    }
    return m;
  }
}
