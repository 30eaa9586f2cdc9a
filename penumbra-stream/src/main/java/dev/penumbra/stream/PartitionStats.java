package dev.penumbra.stream;

/**
 * One partition of the embedded runtime, cumulative since it started.
 *
 * @param partition the partition
 * @param workers its current number of workers
 * @param submitted records accepted
 * @param processed records whose processing finished (successfully or not)
 * @param failed records whose processing threw (each still processed exactly once)
 * @param sampled records handed to the shadow
 * @param busyNanos wall time the workers spent processing
 * @param scalings scale changes applied
 */
public record PartitionStats(
    int partition, int workers, long submitted, long processed, long failed, long sampled, long busyNanos,
    long scalings) {

  /**
   * Records accepted and not yet processed: queued or in flight. Never negative: a record is counted as
   * submitted just after it is queued, so a worker may finish it before the count moves, and a snapshot taken
   * in between saw one more processed than submitted (under a flood, ticks logged "backlog must be >= 0").
   */
  public long backlog() {
    return Math.max(0, submitted - processed);
  }
}
