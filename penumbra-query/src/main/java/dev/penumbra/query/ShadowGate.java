package dev.penumbra.query;

import dev.penumbra.query.predict.Fingerprint;
import dev.penumbra.query.predict.QueryPrediction;
import dev.penumbra.query.predict.QueryPredictor;
import dev.penumbra.query.shadow.ShadowResult;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Shadows that pay for themselves: decides, per query, whether its sample run is worth its cost, and holds all
 * shadows to a budget (a share of primary time). A sample run only sharpens a prediction, and a sharper prediction
 * only pays when the reservation it sizes competes for something scarce; so, in order:
 *
 * <ol>
 *   <li>a shape never seen is planned (the plan validates it before anything is reserved) and, while the budget
 *       allows, sampled; once the budget is spent it is only planned, and the gateway sizes it as the baseline
 *       would (its prediction would be blind), so a burst of new shapes cannot run the shadows past the budget;
 *   <li>a settled shape (its history predicts well, {@link QueryPredictor#settled}) takes the fast path: neither
 *       plan nor sample, its last plan is reused;
 *   <li>a known shape takes the fast path when the budget is spent;
 *   <li>every query is sampled while the model tier has not been fitted yet (a cold start: the model learns only
 *       from sampled runs);
 *   <li>a young shape (fewer runs than the history tier needs) is sampled: there a sample teaches most;
 *   <li>a query whose sample is expected to cost more than the budget's share of its predicted time (a cheap
 *       query) reuses its shape's plan;
 *   <li>otherwise only under contention — queries wait, or the best node's free memory is below the prediction's
 *       p99 — and only while the prediction is not settled (history answered with a p99 within 1.25x of its
 *       point on 10 or more runs counts as settled).
 * </ol>
 *
 * The budget is a bucket of shadow time: each primary run adds the budget's share of its elapsed time, each shadow
 * takes what it cost, and a sample runs only when the bucket holds its expected cost. It starts empty (see
 * {@link #CAP_AT_BUCKET} and {@link #DEFAULT_CREDIT}): a cold start's first samples wait for the primary time that
 * pays for them. The bucket holds at most two samples' worth (of the dearest recent one), so budget saved while
 * nothing needed sampling cannot be spent in a burst later (a long burst of concurrent queries, each stretched by the
 * others, would otherwise bank enough to sample a whole quiet period); it is separate from the credit, when one is
 * given, which a cold start spends first on its first shapes and which fades with the primary runs (half-life 16),
 * so it is not kept for later. A sample run is cut off at its cost cap: the budget's share of the query's predicted
 * p99 time, at least twice its expected cost, at most the shadow timeout and at most what the bucket holds.
 * Expected cost: the shape's last sample run, else the mean of recent ones. Thread-safe.
 */
final class ShadowGate {

  /** What to do for one query: a plan and a sample run, a plan only, or neither (the shape's last plan). */
  enum Kind { SAMPLE, PLAN, REUSE }

  /**
   * @param cap the sample run's cost cap (SAMPLE only)
   * @param reason why no sample runs, for the query's report (null when the sample runs)
   * @param heldNanos shadow time taken from the budget when the sample was decided (its expected cost), so that
   *     queries arriving together cannot all spend the same budget; settled when the shadow's cost is known
   */
  record Decision(Kind kind, Duration cap, String reason, double heldNanos, boolean asBaseline, boolean after) {

    Decision(Kind kind, Duration cap, String reason) {
      this(kind, cap, reason, 0, false, false);
    }

    Decision(Kind kind, Duration cap, String reason, double heldNanos) {
      this(kind, cap, reason, heldNanos, false, false);
    }

    Decision(Kind kind, Duration cap, String reason, double heldNanos, boolean asBaseline) {
      this(kind, cap, reason, heldNanos, asBaseline, false);
    }
  }

  /**
   * Free room as the query arrives.
   *
   * @param waiting queries waiting for a reservation
   * @param idle nothing is contended as the query arrives: no query waits for a reservation or for a turn at the
   *     path, and the engine has a core no placed query holds (with {@link #SAMPLE_AFTER} off: and the query is
   *     critical)
   */
  record Room(long freeMemoryBytes, int waiting, boolean idle) {

    Room(long freeMemoryBytes, int waiting) {
      this(freeMemoryBytes, waiting, false);
    }
  }

  /** Why an idle node's young shape is not sampled (a constant: no formatting on the hot path). */
  static final String IDLE = "uncontended: nothing waits and a core is free, so a sample would only delay this"
      + " critical query; sized as the baseline would";
  /** Why an idle node's sample runs after the query instead of before it. */
  static final String AFTER = "uncontended: nothing waits and a core is free, so the sample runs after the query, in"
      + " the node's next idle moment, and is cancelled when a query arrives";
  /** Why a settled shape takes the fast path (a constant: no formatting on the fast path). */
  static final String SETTLED = "fingerprint settled: its history was within 1.5x of the actual memory and 2x of the"
      + " actual CPU time on each of its last 5 runs";

  /**
   * On an idle node a sample the rules below would make runs after the query instead of before it (off its latency
   * path, in the node's next idle moment, cancelled when a query arrives), and a young shape's query is sized at
   * least at the baseline's slot. {@code -Dpenumbra.query.sampleAfter=false} measures the design before: on an idle
   * node only a critical query of a young shape skips its sample, and nothing is sampled afterwards.
   */
  static final boolean SAMPLE_AFTER = Boolean.parseBoolean(System.getProperty("penumbra.query.sampleAfter", "true"));

  /**
   * A sample runs only on shadow time the bucket holds: it is cut off at what the bucket held when it was decided, and
   * all of that is held for it until its cost is known (then what it did not use goes back). So the samples never
   * run ahead of the budget: only the plans of new shapes (which must run, to check the query before anything is
   * reserved) may take the bucket below zero, and no sample runs until primary time has paid them back. {@code -Dpenumbra.query.capAtBucket=false} measures the
   * design before: a sample holds only its expected cost and is cut off at its own cap, so one that runs long, and
   * the samples decided while it runs, overdraw the bucket and are paid back afterwards.
   */
  static final boolean CAP_AT_BUCKET = Boolean.parseBoolean(System.getProperty("penumbra.query.capAtBucket", "true"));

  /**
   * The default cold-start credit: none, so the bucket starts empty and the first sample waits for the primary time
   * that pays for it. {@code -Dpenumbra.query.shadowCreditMs=250} measures the design before (a 250 ms credit spent
   * on the first shapes before any primary time was earned: a cold start's share read 20-60% for its first queries
   * and above the budget for minutes).
   */
  static final Duration DEFAULT_CREDIT = Duration.ofMillis(Long.getLong("penumbra.query.shadowCreditMs", 0));

  /** A sample's expected cost before any ran, when no credit is given (a sample at SF 0.1 costs 20-100 ms). */
  private static final double FIRST_GUESS_NANOS = 50e6;

  private static final double NARROW = 1.25;
  /** Decay per primary run of the recent share's sums and of the cold-start credit: by half every 16 runs. */
  private static final double WINDOW_DECAY = Math.pow(0.5, 1.0 / 16);
  /** The bucket holds this many samples' worth of shadow time (of the mean sample's cost). */
  private static final double BUCKET_SAMPLES = 2;
  private static final int MAX_SHAPES = 10_000;

  private final QueryPredictor predictor;
  private final double share;
  private final Duration timeout;
  private volatile boolean always;
  private final boolean skipSettled;
  private final Map<String, Long> lastSampleNanos = new ConcurrentHashMap<>();
  /** Shapes whose last sample after the query was cut off or dropped: the next one is sampled before its query. */
  private final java.util.Set<String> owed = ConcurrentHashMap.newKeySet();
  // Guarded by this.
  private double meanSampleNanos;
  /** How far a sample's whole cost runs past its run's cap: left out of the cap (see {@link #overran}). */
  private double overheadNanos;
  /** The dearest recent sample run (fading by a tenth a sample): the bucket holds two of these (see primary). */
  private double largestSampleNanos;
  private long shadowNanos;
  private long primaryNanos;
  private double windowShadowNanos;
  private double windowPrimaryNanos;
  private double tokens;
  /** The cold-start credit left: spent before the bucket, and fading with the primary runs (half-life 16). */
  private double credit;
  /**
   * A sample's expected cost before any ran: a quarter of the credit when one is given (a cold start holds at most
   * four at once), else {@link #FIRST_GUESS_NANOS}.
   */
  private final double firstGuessNanos;
  private long sampled;
  private long cutOff;
  private long planned;
  private long reused;
  private long afterSampled;
  private long afterDropped;

  /**
   * @param share the budget: shadow time as a share of primary time
   * @param credit shadow time allowed before any primary time was earned (a cold start samples its first shapes)
   * @param always sample every query (bar settled shapes when {@code skipSettled}): the rule before the gate
   */
  ShadowGate(QueryPredictor predictor, double share, Duration credit, Duration timeout, boolean always,
      boolean skipSettled) {
    this.predictor = predictor;
    this.share = share;
    this.credit = credit.toNanos();
    this.firstGuessNanos = credit.isZero() ? FIRST_GUESS_NANOS : credit.toNanos() / 4.0;
    this.timeout = timeout;
    this.always = always;
    this.skipSettled = skipSettled;
  }

  /**
   * For a shape never seen (no earlier shadow to reuse): planned and sampled while the budget allows, the sample
   * cut off at what is left of the budget (at least twice a sample's expected cost, at most the shadow timeout);
   * else planned only.
   */
  Decision unseen() {
    if (always) {
      return new Decision(Kind.SAMPLE, timeout, null);
    }
    double expected = expected(null);
    return sample(Duration.ofNanos((long) Math.min(timeout.toNanos(), Math.max(2 * expected, tokens()))), expected,
        Kind.PLAN);
  }

  /**
   * For a query of a known shape; {@code reused} is its fast-path shadow (no sample), {@code room} the ledger's
   * room now.
   */
  Decision seen(String fp, ShadowResult reused, Room room, Supplier<QueryPrediction> predicted) {
    if (skipSettled && predictor.isSettled(fp)) {
      return new Decision(Kind.REUSE, null, SETTLED);
    }
    if (always) {
      return new Decision(Kind.SAMPLE, timeout, null);
    }
    boolean young = predictor.historySize(fp) < predictor.minHistory();
    double expected = expected(fp);
    if (room.idle() && young && (!SAMPLE_AFTER || !allows(expected))) {
      // A young shape on an idle node: nothing is scarce, so a sharper reservation wins nothing, and the sample
      // would run ahead of the query on its latency path. The loop behaves as the baseline would (its slot, no
      // sample); the run still grows the history.
      return new Decision(Kind.REUSE, null, IDLE, 0, true);
    }
    QueryPrediction p = predicted.get();
    Decision d = seen(fp, room, p, young, expected);
    boolean coldStart = predictor.hasModel() && !predictor.modelFitted();
    if (SAMPLE_AFTER && room.idle() && d.kind() == Kind.SAMPLE && !coldStart
        && room.freeMemoryBytes() >= p.memoryBytes().at(0.99) && !owed.remove(fp)) {
      // Nothing waits and the node has room above the prediction's upper quantile: the query goes first, and its
      // budget stays held for the sample made after it. A shape whose last sample after its query never finished
      // (a client sending its queries back to back leaves no idle moment) is sampled before this once, so that it
      // still teaches the model. So is every query while the model has not been fitted: it needs the samples to
      // answer at all, and one cut off by an arrival would put the fit off.
      return new Decision(Kind.REUSE, d.cap(), AFTER, d.heldNanos(), young, true);
    }
    return d;
  }

  /** {@link #seen(String, ShadowResult, Room, Supplier)} computing the fingerprint and the prediction itself. */
  Decision seen(ShadowResult reused, Room room) {
    String fp = Fingerprint.of(reused.sql());
    return seen(fp, reused, room, () -> predictor.predict(fp, reused, 1));
  }

  /** {@link #spent(String, ShadowResult, Decision)} computing the fingerprint itself. */
  void spent(ShadowResult s, Decision d) {
    spent(Fingerprint.of(s.sql()), s, d);
  }

  private Decision seen(String fp, Room room, QueryPrediction p, boolean young, double expected) {
    double wall = p.wallNanos().point();
    Duration cap = Duration.ofNanos((long) Math.min(timeout.toNanos(),
        Math.max(2 * expected, share * p.wallNanos().at(0.99))));
    if (!allows(expected)) {
      return sample(cap, expected, Kind.REUSE);
    }
    if (predictor.hasModel() && !predictor.modelFitted()) {
      // A cold start: the model learns only from sampled runs, so they come first while the budget allows.
      return sample(cap, expected, Kind.REUSE);
    }
    if (young) {
      // A young shape (its history does not answer yet): what a sample teaches is worth most here, so the budget
      // goes here first.
      return sample(cap, expected, Kind.REUSE);
    }
    if (expected > share * wall) {
      return new Decision(Kind.REUSE, null, "cheap: a sample costs ~" + tenths(expected / 1e6) + " ms, more than "
          + Math.round(100 * share) + "% of the query's ~" + tenths(wall / 1e6) + " ms");
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
    return sample(cap, expected, Kind.REUSE);
  }

  /**
   * A sample, its expected cost taken from the budget now; or, when the budget does not hold it (queries that
   * arrived together took it), {@code otherwise} (a plan only, or the fast path).
   */
  private synchronized Decision sample(Duration cap, double expected, Kind otherwise) {
    if (!allows(expected)) {
      return new Decision(otherwise, null, (otherwise == Kind.PLAN ? "new shape, " : "") + "shadow budget spent: "
          + tenths(Math.max(0, tokens()) / 1e6) + " ms left, a sample costs ~" + tenths(expected / 1e6)
          + " ms (budget " + tenths(100 * share) + "% of primary time, " + tenths(100 * share()) + "% spent recently)"
          + (otherwise == Kind.PLAN ? ": planned only" : ""));
    }
    if (!CAP_AT_BUCKET) {
      spend(expected);
      return new Decision(Kind.SAMPLE, cap, null, expected);
    }
    // Cut off at what the bucket holds, and hold all of it: queries deciding meanwhile see only what is left. The
    // cap bounds the sample run alone; the plan before it and the scaling after it are left room for.
    double held = Math.min(cap.toNanos(), tokens());
    spend(held);
    return new Decision(Kind.SAMPLE, Duration.ofNanos((long) (held - Math.min(overheadNanos, held / 2))), null, held);
  }

  /**
   * Learns how far a sample's whole cost runs past its run's cap (the plan before the run, the scaling after it):
   * up by any cost beyond what was held, down by a quarter after a cut-off run that stayed within it.
   */
  private void overran(double cost, double held, boolean cutOff) {
    if (!CAP_AT_BUCKET || held <= 0) {
      return;
    }
    if (cost > held) {
      overheadNanos += cost - held;
    } else if (cutOff) {
      overheadNanos *= 0.75;
    }
  }

  /** Turns sampling every unsettled query on or off (see the constructor's {@code always}). */
  void always(boolean on) {
    this.always = on;
  }

  /** Records what one shadow cost; {@code d} is the decision it ran on. */
  synchronized void spent(String fp, ShadowResult s, Decision d) {
    shadowNanos += s.shadowWallNanos();
    windowShadowNanos += s.shadowWallNanos();
    if (!always) {
      // Shadows run by choice outside the budget (always) do not draw on it. A sample made after the query keeps
      // its hold until it ran (sampledAfter) or was dropped (droppedAfter).
      if (!d.after()) {
        tokens += d.heldNanos();
      }
      spend(s.shadowWallNanos());
    }
    switch (d.kind()) {
      case SAMPLE -> {
        sampled++;
        if (s.cutOff()) {
          cutOff++;
        }
        long cost = s.shadowWallNanos();
        overran(cost, d.heldNanos(), s.cutOff());
        meanSampleNanos = sampled == 1 ? cost : 0.8 * meanSampleNanos + 0.2 * cost;
        largestSampleNanos = Math.max(cost, 0.9 * largestSampleNanos);
        if (lastSampleNanos.size() >= MAX_SHAPES) {
          lastSampleNanos.clear();
        }
        // A run cut off at its cap cost at least that: it lowers no longer run's figure (a cap set by what the
        // bucket held says nothing of what the shape's sample costs).
        lastSampleNanos.merge(fp, cost, (was, now) -> s.cutOff() ? Math.max(was, now) : now);
      }
      case PLAN -> planned++;
      case REUSE -> reused++;
    }
  }

  /** Records a sample made after its query ({@link Decision#after}): what it cost settles what was held for it. */
  synchronized void sampledAfter(String fp, ShadowResult s, double heldNanos) {
    long cost = s.shadowWallNanos();
    shadowNanos += cost;
    windowShadowNanos += cost;
    tokens += heldNanos;
    spend(cost);
    sampled++;
    if (s.cutOff()) {
      cutOff++;
    }
    overran(cost, heldNanos, s.cutOff());
    meanSampleNanos = sampled == 1 ? cost : 0.8 * meanSampleNanos + 0.2 * cost;
    largestSampleNanos = Math.max(cost, 0.9 * largestSampleNanos);
    if (!s.cutOff()) {
      // A run cancelled by an arriving query says nothing of what the shape's sample costs.
      if (lastSampleNanos.size() >= MAX_SHAPES) {
        lastSampleNanos.clear();
      }
      lastSampleNanos.put(fp, cost);
      owed.remove(fp);
    } else {
      owe(fp);
    }
    afterSampled++;
  }

  /** A sample held for after its query that never ran (no idle moment came): its hold goes back to the budget. */
  synchronized void droppedAfter(String fp, double heldNanos) {
    tokens += heldNanos;
    afterDropped++;
    owe(fp);
  }

  private void owe(String fp) {
    if (owed.size() >= MAX_SHAPES) {
      owed.clear();
    }
    owed.add(fp);
  }

  /** Samples made after their query, and those dropped for want of an idle moment. */
  synchronized long[] afterCounts() {
    return new long[] {afterSampled, afterDropped};
  }

  /** Records one primary run's elapsed time (what the budget is a share of). */
  synchronized void primary(long wallNanos) {
    primaryNanos += Math.max(0, wallNanos);
    windowShadowNanos *= WINDOW_DECAY;
    windowPrimaryNanos = windowPrimaryNanos * WINDOW_DECAY + Math.max(0, wallNanos);
    // The bucket holds at most two samples' worth (of the first guess before any ran), so a gateway that has served
    // a while starts no burst of samples; the credit fades like the window, so it pays for a cold start only.
    credit *= WINDOW_DECAY;
    // With samples cut off at what the bucket holds (CAP_AT_BUCKET), it must hold a dear shape's sample too: two of
    // the dearest recent one.
    double bound = BUCKET_SAMPLES * (sampled == 0 ? firstGuessNanos
        : CAP_AT_BUCKET ? Math.max(meanSampleNanos, largestSampleNanos) : meanSampleNanos);
    tokens = Math.min(tokens + share * Math.max(0, wallNanos), Math.max(tokens, bound));
  }

  synchronized ShadowStats stats() {
    return new ShadowStats(share, shadowNanos, primaryNanos, sampled, cutOff, planned, reused, 0);
  }

  /** Shadow time over primary time in the recent window (sums decayed by half every 16 runs), for the report. */
  private synchronized double share() {
    return windowPrimaryNanos == 0 ? 0 : windowShadowNanos / windowPrimaryNanos;
  }

  private synchronized boolean allows(double expectedNanos) {
    return expectedNanos <= tokens + credit;
  }

  /** Takes shadow time from the credit first, the rest from the bucket (which may go below zero). */
  private synchronized void spend(double nanos) {
    double fromCredit = Math.min(credit, nanos);
    credit -= fromCredit;
    tokens -= nanos - fromCredit;
  }

  /** Shadow time the bucket and the credit hold (negative once overspent). */
  private synchronized double tokens() {
    return tokens + credit;
  }

  private synchronized double expected(String fingerprint) {
    Long last = fingerprint == null ? null : lastSampleNanos.get(fingerprint);
    return last != null ? last : sampled > 0 ? meanSampleNanos : firstGuessNanos;
  }

  private static String mib(long bytes) {
    return tenths(bytes / (1024.0 * 1024)) + " MiB";
  }

  /** {@code v} with one decimal, by integer arithmetic: the reasons are written for every query. */
  static String tenths(double v) {
    long t = Math.round(Math.abs(v) * 10);
    return (v < 0 && t != 0 ? "-" : "") + t / 10 + "." + t % 10;
  }
}
