package dev.penumbra.stream;

/**
 * What the shadow observed of one partition in one interval: the signal a stream's control loop reads.
 *
 * @param partition the partition
 * @param timeMillis the end of the interval
 * @param rate records per second that arrived (sampled records / sampling rate / interval)
 * @param costSecondsPerRecord CPU seconds per record the planner assumes (the shadow's measurement, smoothed)
 * @param backlog records accepted and not yet processed at the end of the interval
 * @param workers the partition's workers at the end of the interval
 */
public record PartitionSignal(int partition, long timeMillis, double rate, double costSecondsPerRecord, long backlog,
    int workers) {

  /** CPU millicores the arrivals of the interval needed (rate x cost): a measurement, not a forecast. */
  public double arrivalsMillicores() {
    return rate * costSecondsPerRecord * 1000;
  }
}
