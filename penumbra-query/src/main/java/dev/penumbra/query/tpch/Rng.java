package dev.penumbra.query.tpch;

/**
 * SplitMix64, re-seeded per generated entity: a row's values depend only on (seed, stream, key), so any key
 * range can be generated on its own (inserts continue the sequence without replaying earlier rows).
 */
final class Rng {
  private long state;

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  Rng reseed(long seed, int stream, long key) {
    state = mix(seed ^ mix(((long) stream << 48) ^ key * 0x9E3779B97F4A7C15L));
    return this;
  }

  long next() {
    state += 0x9E3779B97F4A7C15L;
    return mix(state);
  }

  /** Uniform in [lo, hi], both inclusive. */
  int between(int lo, int hi) {
    return lo + (int) (((next() >>> 32) * (long) (hi - lo + 1)) >>> 32);
  }

  /** Uniform in [lo, hi] for wide ranges. */
  long betweenLong(long lo, long hi) {
    return lo + Math.floorMod(next(), hi - lo + 1);
  }

  <T> T pick(T[] values) {
    return values[between(0, values.length - 1)];
  }
}
