package dev.penumbra.query;

/**
 * CPU time the threads that submitted queries spent in each stage of the gateway, summed over every query so far
 * (measured with the JVM's per-thread CPU clock): what Penumbra's own work costs per query beside the engine's.
 *
 * @param queries queries that reached the primary
 * @param pathNanos the path before the reservation: sandbox check, shadow (a plan, a sample run, or a reused plan),
 *     predictions
 * @param reserveNanos the reservation: sizing, placing, activating (the wait for a turn or for room costs no CPU)
 * @param executeNanos the primary's run on the submitting thread: the engine's per-query set-up, its parser check,
 *     the query's operators when it runs on one thread, fetching the rows, reading its profile
 * @param learnNanos after the run: completing the grant, the predictor's learn step, the loop's adjuster
 */
public record GatewayCpu(long queries, long pathNanos, long reserveNanos, long executeNanos, long learnNanos) {

  /** The counters accumulated since {@code before}. */
  public GatewayCpu since(GatewayCpu before) {
    return new GatewayCpu(queries - before.queries, pathNanos - before.pathNanos, reserveNanos - before.reserveNanos,
        executeNanos - before.executeNanos, learnNanos - before.learnNanos);
  }
}
