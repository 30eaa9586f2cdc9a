package dev.penumbra.eval.shard;

import dev.penumbra.core.ManualClock;
import java.time.Instant;
import java.util.PriorityQueue;

/** Discrete events in simulated milliseconds; the clock jumps to each event before it runs. */
final class EventLoop {

  private record Ev(long at, long seq, Runnable action) {}

  final ManualClock clock = new ManualClock(Instant.EPOCH);
  private final PriorityQueue<Ev> queue = new PriorityQueue<>((a, b) -> a.at != b.at ? Long.compare(a.at, b.at)
      : Long.compare(a.seq, b.seq));
  private long seq;
  private long now;
  private long events;
  private Runnable after = () -> {};

  long now() {
    return now;
  }

  long events() {
    return events;
  }

  void at(long millis, Runnable action) {
    queue.add(new Ev(Math.max(millis, now), seq++, action));
  }

  /** Runs after every event (e.g. to schedule the sweeper's next tick). */
  void afterEach(Runnable r) {
    this.after = r;
  }

  /** Runs events until none is left or {@code maxEvents} ran; false when stopped by the bound. */
  boolean run(long maxEvents) {
    while (!queue.isEmpty()) {
      if (events >= maxEvents) {
        return false;
      }
      Ev e = queue.poll();
      now = e.at;
      clock.set(Instant.ofEpochMilli(now));
      events++;
      e.action.run();
      after.run();
    }
    return true;
  }
}
