package dev.penumbra.shard;

import java.time.Duration;

/** Ready-made shard functions, addressable by name where a shard travels without code (a worker process). */
public final class ShardFunctions {

  /** The name of {@link #keySum}. */
  public static final String KEY_SUM = "key-sum";

  private ShardFunctions() {}

  /**
   * Sums the shard's keys (every key in its subset, exactly), spending {@code perKey} of wall time per key: a
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
      long pause = perKeyNanos * n;
      if (pause > 0) {
        // The synthetic work's duration; an interrupt (a cancelled attempt) ends it.
        Thread.sleep(pause / 1_000_000, (int) (pause % 1_000_000));
      }
      return sum;
    };
  }

  /** The answer {@link #keySum} gives for all keys of {@code range}. */
  public static long expectedSum(KeyRange range) {
    long n = range.size();
    return range.from() * n + n * (n - 1) / 2;
  }
}
