package dev.penumbra.eval.stream;

/** Latencies in log buckets of 2% width from 1 µs; quantiles are a bucket's upper edge (within 2%). */
final class LatencyHistogram {

  private static final double BASE = 1e-6;
  private static final double GROWTH = Math.log(1.02);
  private final long[] buckets = new long[1400];
  private long count;

  void add(double seconds) {
    int i = seconds <= BASE ? 0 : (int) Math.min(buckets.length - 1, Math.ceil(Math.log(seconds / BASE) / GROWTH));
    buckets[i]++;
    count++;
  }

  long count() {
    return count;
  }

  /** The latency (seconds) below which {@code q} of the records fell. */
  double quantile(double q) {
    if (count == 0) {
      return Double.NaN;
    }
    long rank = (long) Math.ceil(q * count);
    long seen = 0;
    for (int i = 0; i < buckets.length; i++) {
      seen += buckets[i];
      if (seen >= rank) {
        return BASE * Math.exp(i * GROWTH);
      }
    }
    return BASE * Math.exp((buckets.length - 1) * GROWTH);
  }
}
