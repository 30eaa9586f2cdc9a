package dev.penumbra.eval.stream;

import dev.penumbra.stream.RecordProcessor;
import dev.penumbra.stream.StreamRecord;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * A processing function with a real CPU cost: a hash loop whose length is calibrated on this machine so that
 * a record of weight 1 costs about {@code costMicros} of thread CPU time. A record's weight is its value's
 * first byte / 100 (so 0.5..1.5 for 50..150); a record without a value has weight 1.
 */
public final class Work implements RecordProcessor {

  private final double iterationsPerMicro;
  private final double costMicros;
  private volatile long sink;

  private Work(double iterationsPerMicro, double costMicros) {
    this.iterationsPerMicro = iterationsPerMicro;
    this.costMicros = costMicros;
  }

  /** Calibrates the loop against this thread's CPU time (about 0.2 s of CPU). */
  public static Work calibrated(double costMicros) {
    if (!(costMicros > 0 && costMicros <= 1_000_000)) {
      throw new IllegalArgumentException("costMicros must be in (0, 1e6], was " + costMicros);
    }
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long warm = spin(2_000_000, 1);
    double best = 0;
    for (int round = 0; round < 5; round++) {
      long n = 4_000_000;
      long t0 = mx.getCurrentThreadCpuTime();
      warm += spin(n, round);
      long t1 = mx.getCurrentThreadCpuTime();
      // The fastest round is the one least disturbed by other processes on a shared machine.
      best = Math.max(best, n / Math.max(1.0, (t1 - t0) / 1e3));
    }
    Work w = new Work(best, costMicros);
    w.sink = warm;
    return w;
  }

  public double costMicros() {
    return costMicros;
  }

  /** Weight of a record: its value's first byte / 100, or 1. */
  public static double weight(StreamRecord r) {
    return r.value() == null || r.value().length == 0 ? 1.0 : (r.value()[0] & 0xff) / 100.0;
  }

  @Override
  public void process(StreamRecord record) {
    long n = Math.round(costMicros * weight(record) * iterationsPerMicro);
    sink += spin(n, record.partition());
  }

  static long spin(long n, long seed) {
    long h = seed ^ 0x9E3779B97F4A7C15L;
    for (long i = 0; i < n; i++) {
      h ^= i;
      h *= 0xff51afd7ed558ccdL;
      h ^= h >>> 33;
    }
    return h;
  }
}
