package dev.penumbra.query;

import dev.penumbra.core.Resources;
import dev.penumbra.query.engine.PrimaryEngine;
import dev.penumbra.query.engine.QueryResult;
import dev.penumbra.query.predict.QueryPrediction;
import dev.penumbra.query.predict.QueryPredictor;
import dev.penumbra.query.shadow.ShadowResult;

/**
 * The learn step of the query loop: what a run teaches the predictor (its full profile) and what it tells the
 * loop it needed ({@link dev.penumbra.core.loop.Grant#complete}, which feeds the allocator's record per model and
 * priority).
 */
final class QueryFeedback {

  private final QueryPredictor predictor;
  private volatile boolean learning = true;

  QueryFeedback(QueryPredictor predictor) {
    this.predictor = predictor;
  }

  void learning(boolean on) {
    this.learning = on;
  }

  boolean learning() {
    return learning;
  }

  /**
   * What the run needed, for the loop: average cores over the run and its memory. A spilled run's peak is bounded
   * by its limit, so its need is the reserved memory plus what it spilled; a run that failed for memory needed
   * more than it had (its reservation + 1 byte is the lower bound). Null for runs that teach nothing (SQL error,
   * timeout).
   */
  static Resources need(QueryResult result, Resources reserved) {
    QueryProfile a = result.profile();
    long memory = memoryNeed(result, reserved);
    if (memory < 0) {
      return null;
    }
    long cores = a.wallNanos() > 0 ? (long) Math.ceil(1000.0 * a.cpuNanos() / a.wallNanos()) : 0;
    return Resources.of(cores, memory);
  }

  /**
   * Feeds the run's profile (with its memory need, see {@link #need}) to the predictor, unless frozen; {@code
   * predicted} is the prediction made for it before load (null: the predictor predicts again to score it).
   */
  void learn(String fingerprint, ShadowResult shadow, QueryResult result, Resources reserved,
      QueryPrediction predicted) {
    QueryProfile learned = learned(result, reserved);
    if (learned == null || !learning) {
      return;
    }
    predictor.learn(fingerprint, shadow, learned, PrimaryEngine.threadsFor(reserved), predicted);
  }

  /** Feeds a sample made after the run to the model (see {@link QueryPredictor#learnSample}), unless frozen. */
  void learnSample(String fingerprint, ShadowResult sampled, QueryResult result, Resources reserved) {
    QueryProfile learned = learned(result, reserved);
    if (learned == null || !learning) {
      return;
    }
    predictor.learnSample(fingerprint, sampled, learned, PrimaryEngine.threadsFor(reserved));
  }

  /** The run's profile with its memory need; null for a run that teaches nothing. */
  private static QueryProfile learned(QueryResult result, Resources reserved) {
    long memory = memoryNeed(result, reserved);
    if (memory < 0) {
      return null;
    }
    QueryProfile a = result.profile();
    return memory == a.peakMemoryBytes() ? a
        : new QueryProfile(a.cpuNanos(), memory, a.wallNanos(), a.bytesRead(), a.rowsScanned(), a.rowsReturned(),
            a.spilledBytes());
  }

  private static long memoryNeed(QueryResult result, Resources reserved) {
    QueryProfile a = result.profile();
    return switch (result.outcome()) {
      case COMPLETED -> a.peakMemoryBytes();
      case SPILLED -> Math.max(a.peakMemoryBytes(), reserved.memoryBytes() + a.spilledBytes());
      case FAILED_MEMORY -> Math.max(a.peakMemoryBytes(), reserved.memoryBytes() + 1);
      case TIMED_OUT, SQL_ERROR -> -1;
    };
  }
}
