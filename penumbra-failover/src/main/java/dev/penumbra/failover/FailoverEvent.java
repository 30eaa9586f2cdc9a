package dev.penumbra.failover;

import java.time.Instant;

/**
 * One move of a node's work.
 *
 * @param node the node
 * @param cause {@code PLANNED} (risk reached the promote threshold) or {@code DETECTED} (health checks failed)
 * @param withStandby whether a ready standby was promoted (else: replaced from the archive)
 * @param risk the node's risk when the move started
 * @param started when the move started (for a detected failure: when it was detected)
 * @param millis how long the move took, until clients were redirected
 * @param error why it failed, or null
 */
public record FailoverEvent(String node, Cause cause, boolean withStandby, double risk, Instant started, long millis,
    String error) {

  /** Why the work moved. */
  public enum Cause { PLANNED, DETECTED }
}
