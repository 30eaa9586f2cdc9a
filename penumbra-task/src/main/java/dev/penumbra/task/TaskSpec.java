package dev.penumbra.task;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import java.util.regex.Pattern;

/**
 * What the executor needs to know about a task before it runs.
 *
 * @param type the task type (letters, digits, '.', '_', '-'; 1-64 characters): tasks of one type share a
 *     {@link TaskProfile}
 * @param priority how conservatively its forecast is sized and what its requests may displace
 * @param base what it gets at admission and keeps until it ends: {@code cpuMillis / 1000} worker threads
 *     (a multiple of 1000; the task's own thread comes on top) and {@code memoryBytes} of pool memory (rounded
 *     up to whole blocks); IO and network must be 0 (they are measured, not granted)
 * @param prefetch called when resources are warmed for the task (for instance to load a cache), or null
 */
public record TaskSpec(String type, Priority priority, Resources base, PrefetchHook prefetch) {

  private static final Pattern TYPE = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  public TaskSpec {
    if (type == null || !TYPE.matcher(type).matches()) {
      throw new IllegalArgumentException(
          "type must be 1-64 letters, digits, '.', '_' or '-', was " + (type == null ? "null" : "'" + type + "'"));
    }
    if (priority == null) {
      throw new IllegalArgumentException("priority of task type '" + type + "' is missing");
    }
    if (base == null) {
      throw new IllegalArgumentException("base of task type '" + type + "' is missing");
    }
    if (base.cpuMillis() % 1000 != 0) {
      throw new IllegalArgumentException(
          "base.cpuMillis must be a multiple of 1000 (whole worker threads), was " + base.cpuMillis());
    }
    if (base.ioBytesPerSec() != 0 || base.networkBytesPerSec() != 0) {
      throw new IllegalArgumentException("base of task type '" + type + "' grants only cpu and memory, was " + base);
    }
  }

  /** A task of {@code type} with nothing beyond its own thread at admission and no prefetch hook. */
  public static TaskSpec of(String type, Priority priority) {
    return new TaskSpec(type, priority, Resources.ZERO, null);
  }

  public TaskSpec withBase(Resources base) {
    return new TaskSpec(type, priority, base, prefetch);
  }

  public TaskSpec withPrefetch(PrefetchHook hook) {
    return new TaskSpec(type, priority, base, hook);
  }
}
