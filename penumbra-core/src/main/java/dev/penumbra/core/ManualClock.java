package dev.penumbra.core;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Clock} that moves only when told to: for tests and for replay, which run faster than real time.
 * Everything in Penumbra that reads time takes a {@code java.time.Clock}; production passes
 * {@link Clock#systemUTC()}. Thread-safe; never moves backwards.
 */
public final class ManualClock extends Clock {

  private final AtomicLong nanos;
  private final ZoneId zone;

  public ManualClock(Instant start) {
    this(toNanos(start), ZoneOffset.UTC);
  }

  private ManualClock(long nanos, ZoneId zone) {
    this.nanos = new AtomicLong(nanos);
    this.zone = zone;
  }

  private ManualClock(AtomicLong shared, ZoneId zone) {
    this.nanos = shared;
    this.zone = zone;
  }

  private static long toNanos(Instant t) {
    return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000_000L), t.getNano());
  }

  /** Moves time forward by {@code d} (>= 0). */
  public void advance(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("clock cannot move backwards: advance by " + d);
    }
    nanos.addAndGet(d.toNanos());
  }

  /** Moves time forward to {@code t}, which must not be earlier than now. */
  public void set(Instant t) {
    long target = toNanos(t);
    long now = nanos.get();
    if (target < now) {
      throw new IllegalArgumentException("clock cannot move backwards: from " + instant() + " to " + t);
    }
    nanos.compareAndSet(now, target);
  }

  @Override
  public Instant instant() {
    long n = nanos.get();
    return Instant.ofEpochSecond(Math.floorDiv(n, 1_000_000_000L), Math.floorMod(n, 1_000_000_000L));
  }

  @Override
  public long millis() {
    return Math.floorDiv(nanos.get(), 1_000_000L);
  }

  @Override
  public ZoneId getZone() {
    return zone;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return new ManualClock(nanos, zone);
  }
}
