package dev.penumbra.task;

import java.util.Locale;

/**
 * What a task shadow observes of a running task, one series each. Measured signals come from the JVM
 * (ThreadMXBean); accounted ones from what the executor handed to the task.
 */
public enum Signal {
  /** CPU used by the task's threads, millicores (measured: thread CPU time). */
  CPU,
  /** Worker threads the task holds beside its own (accounted). */
  THREADS,
  /** Memory the task holds from the executor's pool, bytes (accounted). */
  MEMORY,
  /** Bytes per second through the channels the executor handed to the task (measured by counting). */
  IO,
  /** Bytes per second allocated on the heap by the task's thread (measured: thread allocated bytes). */
  ALLOCATION;

  static final Signal[] ALL = values();
  static final int COUNT = ALL.length;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
