package dev.penumbra.server;

import java.util.ArrayDeque;

/**
 * A shadow share over the last stretch of time: shadow time over primary time between a reading of the running totals
 * about {@code window} ago and the latest one. The share since start answers what the shadows have cost in all; this
 * one answers what they cost now, which a cold start's first queries (every shape new, every plan made) no longer
 * weigh on after a minute. Readings are taken by the caller (at most one a second is kept), with their time, so the
 * window is exact under any clock. Thread-safe.
 */
final class ShareWindow {
  private static final long KEEP_EVERY_MILLIS = 1000;

  private record Reading(long millis, long shadowNanos, long primaryNanos) {}

  private final long windowMillis;
  private final ArrayDeque<Reading> readings = new ArrayDeque<>();

  /** @param windowMillis the stretch of time the share is over (> 0) */
  ShareWindow(long windowMillis) {
    if (windowMillis <= 0) {
      throw new IllegalArgumentException("windowMillis must be > 0, was " + windowMillis);
    }
    this.windowMillis = windowMillis;
  }

  /** Records the running totals at {@code millis}; readings less than a second after the last kept one are skipped. */
  synchronized void add(long millis, long shadowNanos, long primaryNanos) {
    Reading last = readings.peekLast();
    if (last != null && millis - last.millis() < KEEP_EVERY_MILLIS) {
      return;
    }
    readings.addLast(new Reading(millis, shadowNanos, primaryNanos));
    // Keep the newest reading at least a window old: the start of the window.
    while (readings.size() > 2) {
      var it = readings.iterator();
      it.next();
      if (millis - it.next().millis() >= windowMillis) {
        readings.removeFirst();
      } else {
        break;
      }
    }
  }

  /**
   * Shadow time over primary time since the reading a window before the newest one (or the oldest kept, when the
   * readings span less than a window), up to the totals given; NaN while no primary time ran in that stretch.
   */
  synchronized double share(long shadowNanos, long primaryNanos) {
    Reading first = readings.peekFirst();
    long shadow = shadowNanos - (first == null ? 0 : first.shadowNanos());
    long primary = primaryNanos - (first == null ? 0 : first.primaryNanos());
    return primary <= 0 ? Double.NaN : (double) shadow / primary;
  }
}
