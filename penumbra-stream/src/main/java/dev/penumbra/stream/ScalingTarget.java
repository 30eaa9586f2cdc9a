package dev.penumbra.stream;

/** What a scaler drives: a partitioned stream whose partitions' worker counts can be changed. */
public interface ScalingTarget {

  int partitions();

  /** The partition's current number of workers (including ones still starting). */
  int workers(int partition);

  /** Sets the partition's number of workers. */
  void scale(int partition, int workers) throws InterruptedException;

  /** Records accepted and not yet processed. */
  long backlog(int partition);

  /** Time the partition's workers spent processing so far, in nanoseconds; -1 when the target does not know. */
  default long busyNanos(int partition) {
    return -1;
  }

  /** Records the partition's workers have processed so far; -1 when the target does not know. */
  default long processed(int partition) {
    return -1;
  }
}
