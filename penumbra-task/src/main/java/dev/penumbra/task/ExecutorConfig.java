package dev.penumbra.task;

import dev.penumbra.core.Priority;
import dev.penumbra.core.feedback.ErrorTracker;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * A {@link TaskExecutor}'s options, checked once by its builder.
 *
 * @param node the ledger node the tasks reserve on
 * @param warmAbove a reactive grant faster than this is not worth warming ahead (the task would not notice it)
 * @param phasedAdmission with warming on, tasks start when their type's predicted phases fit ({@link PhaseAdmission})
 * @param planWhenContended the phase plan holds tasks back only while grants on request of memory are measured to
 *     wait at least {@code warmAbove}; otherwise tasks start as under grant on request
 * @param maxTypes task types whose profiles are kept; beyond it the least recently run type is forgotten
 */
record ExecutorConfig(
    String node,
    Clock clock,
    long intervalMillis,
    Duration horizon,
    Duration grace,
    Duration lease,
    Duration bucket,
    int blockBytes,
    int maxStride,
    boolean warming,
    Map<Priority, Fallback> fallbacks,
    long queueTimeoutNanos,
    ErrorTracker tracker,
    ThreadProbe probe,
    Duration warmAbove,
    boolean phasedAdmission,
    boolean planWhenContended,
    int maxTypes) {

  ExecutorConfig {
    fallbacks = Map.copyOf(fallbacks);
  }

  /**
   * Tasks start by the plan of predicted phases: peaks that do not collide leave no wait for a reactive grant to
   * cover, so nothing is held ahead of the horizon (the lag is not added to the lead).
   */
  boolean phased() {
    return warming && phasedAdmission;
  }

  /** Whole blocks holding {@code bytes}. */
  int blocksFor(long bytes) {
    long n = (bytes + blockBytes - 1) / blockBytes;
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("memory bytes is too large, was " + bytes);
    }
    return (int) n;
  }

  /** Ticks between two runs of the loop's adjuster: often enough to release within half a grace period. */
  int adjustEveryTicks() {
    return (int) Math.max(1, Math.min(64, grace.toMillis() / 2 / intervalMillis));
  }
}
