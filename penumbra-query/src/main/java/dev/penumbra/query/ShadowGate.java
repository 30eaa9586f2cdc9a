package dev.penumbra.query;

import dev.penumbra.query.predict.Fingerprint;
import dev.penumbra.query.predict.QueryPrediction;
import dev.penumbra.query.predict.QueryPredictor;
import dev.penumbra.query.shadow.ShadowResult;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Shadows that pay for themselves: decides, per query, whether its sample run is worth its cost, and holds all
 * shadows to a budget (a share of primary time). A sample run only sharpens a prediction, and a sharper prediction
 * only pays when the reservation it sizes competes for something scarce; so, in order:
 *
 * <ol>
 *   <li>a shape never seen is planned (the plan validates it before anything is reserved) and sampled: without
 *       a sample or a history its prediction would be blind;
 *   <li>a settled shape (its history predicts well, {@link QueryPredictor#settled}) takes the fast path: neither
 *       plan nor sample, its last plan is reused;
 *   <li>every query is sampled while the model tier has not been fitted yet (a cold start: the model learns only
 *       from sampled runs), whatever the budget;
 *   <li>a known shape takes the fast path when the budget is spent;
 *   <li>a young shape (fewer runs than the history tier needs) is sampled: there a sample teaches most;
 *   <li>a query whose sample is expected to cost more than the budget's share of its predicted time (a cheap
 *       query) reuses its shape's plan;
 *   <li>otherwise only under contention — queries wait, or the best node's free memory is below the prediction's
 *       p99 — and only while the prediction is not settled (history answered with a p99 within 1.25x of its
 *       point on 10 or more runs counts as settled).
 * </ol>
 *
 * The budget holds over a recent window (half-life 64 primary runs). A sample run is cut off at its cost cap:
 * the budget's share of the query's predicted p99 time, at least twice its expected cost, at most the shadow
 * timeout. Expected cost: the shape's last sample run, else the mean of recent ones. Thread-safe.
 */
final class ShadowGate {

  /** What to do for one query. */
  enum Kind { SAMPLE, REUSE }

  /**
   * @param cap the sample run's cost cap (SAMPLE only)
   * @param reason why, for the query's report (null when the sample runs)
   */
  record Decision(Kind kind, Duration cap, String reason) {}

  /** Free room on the ledger as the query arrives. */
  record Room(long freeMemoryBytes, int waiting) {}

  private static final double NARROW = 1.25;
  /**
   * The budget is enforced over a recent window (sums decayed by half every 64 primary runs), so shadow time saved
   * while nothing needed sampling cannot be spent all at once later; the reported share is over the whole life.
   */
  private static final double WINDOW_DECAY = Math.pow(0.5, 1.0 / 64);
  private static final int MAX_SHAPES = 10_000;

  private final QueryPredictor predictor;
  private final double share;
  private final long creditNanos;
  private final Duration timeout;
  private final boolean always;
  private final boolean skipSettled;
  private final Map<String, Long> lastSampleNanos = new ConcurrentHashMap<>();
  // Guarded by this.
  private double meanSampleNanos;
  private long shadowNanos;
  private long primaryNanos;
  private double windowShadowNanos;
  private double windowPrimaryNanos;
  private long sampled;
  private long cutOff;
  private long reused;

  /**
   * @param share the budget: shadow time as a share of primary time
   * @param credit shadow time allowed before any primary time was earned (a cold start samples its first shapes)
   * @param always sample every query (bar settled shapes when {@code skipSettled}): the rule before the gate
   */
  ShadowGate(QueryPredictor predictor, double share, Duration credit, Duration timeout, boolean always,
      boolean skipSettled) {
    this.predictor = predictor;
    this.share = share;
    this.creditNanos = credit.toNanos();
    this.timeout = timeout;
    this.always = always;
    this.skipSettled = skipSettled;
  }

  /** For a shape never seen (no earlier shadow to reuse): planned and sampled, cut off at the shadow timeout. */
  Decision unseen() {
    return new Decision(Kind.SAMPLE, timeout, null);
  }

  /**
   * For a query of a known shape; {@code reused} is its fast-path shadow (no sample), {@code room} the ledger's
   * room now.
   */
  Decision seen(ShadowResult reused, Room room) {
    Optional<String> settled = skipSettled ? predictor.settled(reused.sql()) : Optional.empty();
    if (settled.isPresent()) {
      return new Decision(Kind.REUSE, null, settled.get());
    }
    if (always) {
      return new Decision(Kind.SAMPLE, timeout, null);
    }
    String fp = Fingerprint.of(reused.sql());
    double expected = expected(fp);
    QueryPrediction p = predictor.predict(reused);
    double wall = p.wallNanos().point();
    Duration cap = Duration.ofNanos((long) Math.min(timeout.toNanos(),
        Math.max(2 * expected, share * p.wallNanos().at(0.99))));
    if (predictor.hasModel() && !predictor.modelFitted()) {
      return new Decision(Kind.SAMPLE, timeout, null);
    }
    if (!allows(expected)) {
      return new Decision(Kind.REUSE, null, String.format(Locale.ROOT,
          "shadow budget spent (%.1f%% of recent primary time, budget %.1f%%)", 100 * share(), 100 * share));
    }
    if (predictor.historySize(fp) < predictor.minHistory()) {
      // A young shape (its history does not answer yet): what a sample teaches is worth most here, so the budget
      // goes here first.
      return new Decision(Kind.SAMPLE, cap, null);
    }
    if (expected > share * wall) {
      return new Decision(Kind.REUSE, null, String.format(Locale.ROOT,
          "cheap: a sample costs ~%.1f ms, more than %.0f%% of the query's ~%.1f ms", expected / 1e6, 100 * share,
          wall / 1e6));
    }
    long p99 = p.memoryBytes().at(0.99);
    if (room.waiting() == 0 && room.freeMemoryBytes() >= p99) {
      return new Decision(Kind.REUSE, null, "uncontended: " + mib(room.freeMemoryBytes()) + " free >= p99 "
          + mib(p99));
    }
    if (!p.lowConfidence() && p.tier() == QueryPrediction.Tier.HISTORY
        && p99 <= NARROW * p.memoryBytes().point()) {
      return new Decision(Kind.REUSE, null, "prediction settled: p99 " + mib(p99) + " within "
          + NARROW + "x of its point");
    }
    return new Decision(Kind.SAMPLE, cap, null);
  }

  /** Records what one shadow cost. */
  synchronized void spent(ShadowResult s, Kind kind) {
    shadowNanos += s.shadowWallNanos();
    windowShadowNanos += s.shadowWallNanos();
    switch (kind) {
      case SAMPLE -> {
        sampled++;
        if (s.cutOff()) {
          cutOff++;
        }
        long cost = s.shadowWallNanos();
        meanSampleNanos = sampled == 1 ? cost : 0.8 * meanSampleNanos + 0.2 * cost;
        if (lastSampleNanos.size() >= MAX_SHAPES) {
          lastSampleNanos.clear();
        }
        lastSampleNanos.put(Fingerprint.of(s.sql()), cost);
      }
      case REUSE -> reused++;
    }
  }

  /** Records one primary run's elapsed time (what the budget is a share of). */
  synchronized void primary(long wallNanos) {
    primaryNanos += Math.max(0, wallNanos);
    windowShadowNanos *= WINDOW_DECAY;
    windowPrimaryNanos = windowPrimaryNanos * WINDOW_DECAY + Math.max(0, wallNanos);
  }

  synchronized ShadowStats stats() {
    return new ShadowStats(share, shadowNanos, primaryNanos, sampled, cutOff, reused);
  }

  /** The share over the recent window the budget is enforced on. */
  private synchronized double share() {
    return windowPrimaryNanos == 0 ? 0 : windowShadowNanos / windowPrimaryNanos;
  }

  private synchronized boolean allows(double expectedNanos) {
    return windowShadowNanos + expectedNanos <= share * windowPrimaryNanos + creditNanos;
  }

  private synchronized double expected(String fingerprint) {
    Long last = fingerprint == null ? null : lastSampleNanos.get(fingerprint);
    return last != null ? last : meanSampleNanos;
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
  }
}
