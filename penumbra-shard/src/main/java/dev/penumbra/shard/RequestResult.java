package dev.penumbra.shard;

import java.time.Duration;
import java.util.List;

/**
 * A finished request: every shard's accepted result, once each.
 *
 * @param requestId the request
 * @param policy how it was cut
 * @param shards one report per shard, in generation order
 * @param latency from submission to the last shard's result (engine clock)
 */
public record RequestResult(String requestId, ShardPolicy policy, List<ShardReport> shards, Duration latency) {

  /** Slowest shard over the median shard (by run time); 1 for a single shard. */
  public double stragglerRatio() {
    double[] t = shards.stream().mapToDouble(ShardReport::ranMillis).sorted().toArray();
    double median = t.length % 2 == 1 ? t[t.length / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
    return median <= 0 ? 1 : t[t.length - 1] / median;
  }
}
