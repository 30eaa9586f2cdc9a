package dev.penumbra.shard;

import java.time.Duration;

/** Ready-made shard functions, addressable by name where a shard travels without code (a worker process). */
public final class ShardFunctions {

  /** The name of {@link #keySum}. */
  public static final String KEY_SUM = "key-sum";

  private static volatile long sink;

  private ShardFunctions() {}

  /**
   * Sums the shard's keys (every key in its subset, exactly), keeping a core busy for {@code perKey} per key: a
   * synthetic request whose cost grows with its size and whose answer checks the cover (each key counted once).
   */
  public static ShardFunction keySum(Duration perKey) {
    if (perKey == null || perKey.isNegative()) {
      throw new IllegalArgumentException("per-key time must be >= 0, was " + perKey);
    }
    long perKeyNanos = perKey.toNanos();
    return shard -> {
      Subset s = shard.subset();
      long sum = 0;
      long n = 0;
      for (long k = s.range().from(); k < s.range().to(); k++) {
        if (s.contains(k)) {
          sum += k;
          n++;
        }
      }
      // The synthetic work's cost is real CPU (what the backend measures and the reservation is sized for), not a
      // sleep; an interrupt (a cancelled attempt) ends it.
      long end = System.nanoTime() + perKeyNanos * n;
      long spin = 0;
      while (System.nanoTime() < end) {
        for (int i = 0; i < 1_000; i++) {
          spin += i ^ spin;
        }
        if (Thread.interrupted()) {
          throw new InterruptedException("shard " + shard.id() + " cancelled");
        }
      }
      sink = spin; // keeps the loop from being optimized away
      return sum;
    };
  }

  /** The answer {@link #keySum} gives for all keys of {@code range}. */
  public static long expectedSum(KeyRange range) {
    long n = range.size();
    return range.from() * n + n * (n - 1) / 2;
  }
}
