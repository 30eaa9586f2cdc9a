package dev.penumbra.query;

import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.query.engine.Outcome;
import dev.penumbra.query.predict.QueryPrediction;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the {@link QueryGateway} did with one query, step by step.
 *
 * @param user the submitting user
 * @param sla the priority and deadline it was admitted under
 * @param engine the primary engine's name ("duckdb" or "postgresql")
 * @param shadow the shadow run: sample, measurements and its own cost
 * @param prediction what the full query was predicted to need (load-adjusted), with its tier
 * @param reservation the final reservation the query ran on
 * @param outcome what happened on the primary (of the last attempt)
 * @param error the engine's message when the outcome is not COMPLETED or SPILLED
 * @param actual the primary's measurements of the last attempt
 * @param attempts 1, or 2 when the query was retried on an extended reservation
 * @param adjustments changes to the reservation while and after it ran, in order (extensions, the release)
 */
public record QueryReport(
    String user,
    Sla sla,
    String engine,
    Shadow shadow,
    QueryPrediction prediction,
    Allocation reservation,
    Outcome outcome,
    Optional<String> error,
    QueryProfile actual,
    int attempts,
    List<Adjustment> adjustments) {

  public QueryReport {
    Objects.requireNonNull(shadow, "shadow");
    Objects.requireNonNull(prediction, "prediction");
    Objects.requireNonNull(reservation, "reservation");
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(actual, "actual");
    adjustments = List.copyOf(adjustments);
  }

  /**
   * The shadow run.
   *
   * @param fraction the sample's fraction
   * @param effectiveFraction the share of the query's work the sample did (fraction^groups)
   * @param cutOff true when the sample run was cancelled at the shadow timeout (the prediction fell back)
   * @param sample the sample's measurements; null when cut off or skipped
   * @param wallNanos the shadow's elapsed time (plan on the primary + sample run): its cost in latency
   * @param cpuNanos the shadow's CPU time: its cost in compute
   * @param skipped why the sample run was skipped (only the plan was made), e.g. "fingerprint settled: ..."; empty
   *     when it ran
   */
  public record Shadow(double fraction, double effectiveFraction, boolean cutOff, QueryProfile sample,
      long wallNanos, long cpuNanos, Optional<String> skipped) {
    public Shadow {
      Objects.requireNonNull(skipped, "skipped");
    }
  }

  /**
   * The reservation on the ledger.
   *
   * @param id the ledger's reservation id (of the final reservation when it was replaced to extend)
   * @param node the ledger node it was placed on
   * @param requested the amount sized from the prediction: memory at the priority's quantile (widened by
   *     feedback), CPU as the threads granted (1000 millicores each)
   * @param amount the amount the query finally ran with
   * @param queueWaitNanos time spent waiting in the allocator's priority queue (all attempts)
   */
  public record Allocation(long id, String node, Resources requested, Resources amount, long queueWaitNanos) {}

  /**
   * One change to the query's reservation.
   *
   * @param kind EXTENDED (grown after the query outgrew it) or RELEASED (given back when done)
   * @param before the amount before
   * @param after the amount after (zero for a release)
   * @param reason why, e.g. "FAILED_MEMORY: retrying once"
   */
  public record Adjustment(Kind kind, Resources before, Resources after, String reason) {
    public enum Kind { EXTENDED, RELEASED }
  }

  /** True when the primary returned the query's answer (COMPLETED or SPILLED). */
  public boolean succeeded() {
    return outcome == Outcome.COMPLETED || outcome == Outcome.SPILLED;
  }
}
