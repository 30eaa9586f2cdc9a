package dev.penumbra.stream;

/**
 * What a shadow saw of one partition, cumulative since it started.
 *
 * @param partition the partition
 * @param offered records handed to the shadow (the sample)
 * @param processed records the shadow ran the processing function on without error
 * @param dropped records dropped because the shadow's buffer was full (a slow or stalled shadow)
 * @param skipped records not processed to keep the shadow within its budget ({@link Shadow#admit})
 * @param failed records whose processing threw
 * @param cpuNanos thread CPU time spent processing the processed records
 * @param allocatedBytes bytes allocated while processing them
 */
public record ShadowStats(
    int partition, long offered, long processed, long dropped, long skipped, long failed, long cpuNanos,
    long allocatedBytes) {

  /** Mean CPU seconds per processed record, NaN before the first. */
  public double cpuSecondsPerRecord() {
    return processed == 0 ? Double.NaN : cpuNanos / 1e9 / processed;
  }

  /** Mean bytes allocated per processed record, NaN before the first. */
  public double allocatedBytesPerRecord() {
    return processed == 0 ? Double.NaN : (double) allocatedBytes / processed;
  }

  /** The change from an earlier snapshot of the same partition. */
  public ShadowStats minus(ShadowStats earlier) {
    return new ShadowStats(partition, offered - earlier.offered, processed - earlier.processed,
        dropped - earlier.dropped, skipped - earlier.skipped, failed - earlier.failed, cpuNanos - earlier.cpuNanos,
        allocatedBytes - earlier.allocatedBytes);
  }

  static ShadowStats empty(int partition) {
    return new ShadowStats(partition, 0, 0, 0, 0, 0, 0, 0);
  }
}
