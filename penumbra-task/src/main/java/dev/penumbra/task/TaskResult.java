package dev.penumbra.task;

import java.time.Duration;

/**
 * How one task went.
 *
 * @param taskId as assigned at submission ({@code type-n})
 * @param type its type
 * @param latency from submission to the end, wall time (admission and every stall included)
 * @param stalled the part of the latency spent waiting for resources (admission, grants, queueing)
 * @param hits requests served at once from what was reserved (base, warm, given back)
 * @param misses requests that waited for a grant
 * @param failure what the task threw, or null when it succeeded
 */
public record TaskResult(
    String taskId, String type, Duration latency, Duration stalled, int hits, int misses, Throwable failure) {

  public boolean succeeded() {
    return failure == null;
  }
}
