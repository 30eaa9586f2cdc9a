package dev.penumbra.task;

import java.util.ArrayList;
import java.util.List;

/**
 * A task's units of one kind — memory blocks or worker threads — as its grant's reservation stands for them.
 * Every owned unit is exactly one of: free (allocated, idle), unfilled (nobody has started to allocate it),
 * in flight (being allocated) or in use. Guarded by the owning {@link TaskRun}'s monitor.
 */
final class Units {

  enum Kind { MEMORY, THREAD }

  final Kind kind;
  /** Units the reservation stands for (base included). */
  int owned;
  /** Units granted at admission and kept to the end. */
  int base;
  /** Allocated idle blocks ({@code byte[]}) or idle workers ({@link Worker}). */
  final List<Object> free = new ArrayList<>();
  int unfilled;
  /** Of {@link #unfilled}: units a warm-up was asked to fill ahead of need. */
  int warming;
  int inFlight;
  int inUse;
  /** Of {@link #free}: units a warm-up filled that the task has not taken yet. */
  int warmFree;

  Units(Kind kind) {
    this.kind = kind;
  }

  /** Units the task could give back now: owned beyond its base and beyond what it uses or is allocating. */
  int idle() {
    return Math.max(0, Math.min(free.size() + unfilled, owned - Math.max(base, inUse + inFlight)));
  }
}
