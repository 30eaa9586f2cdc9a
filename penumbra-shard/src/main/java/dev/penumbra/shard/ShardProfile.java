package dev.penumbra.shard;

import dev.penumbra.core.Resources;

/**
 * What one finished shard took: one row of the history.
 *
 * @param requestId its request
 * @param requestType the request's type
 * @param function its processing function
 * @param requestKeys keys of the whole request
 * @param unitKeys keys of its unit
 * @param shardKeys keys it processed
 * @param used resources it used (CPU in millicores while it ran, peak memory)
 * @param durationMillis how long it ran
 */
public record ShardProfile(String requestId, String requestType, String function, long requestKeys, long unitKeys,
    long shardKeys, Resources used, double durationMillis) {

  public ShardProfile {
    if (requestType == null || requestType.isBlank()) {
      throw new IllegalArgumentException("profile request type must not be blank, was '" + requestType + "'");
    }
    if (function == null || function.isBlank()) {
      throw new IllegalArgumentException("profile function must not be blank, was '" + function + "'");
    }
    if (shardKeys < 1 || unitKeys < shardKeys || requestKeys < unitKeys) {
      throw new IllegalArgumentException("profile sizes must satisfy 1 <= shard <= unit <= request keys, were "
          + shardKeys + ", " + unitKeys + ", " + requestKeys);
    }
    if (used == null) {
      throw new IllegalArgumentException("profile used resources are missing");
    }
    if (!(durationMillis >= 0) || Double.isInfinite(durationMillis)) {
      throw new IllegalArgumentException("profile duration must be finite and >= 0 ms, was " + durationMillis);
    }
  }
}
