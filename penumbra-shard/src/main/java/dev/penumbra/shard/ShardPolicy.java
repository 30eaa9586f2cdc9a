package dev.penumbra.shard;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How a request's units are cut into shards. Every policy covers each unit's keys exactly once. */
public enum ShardPolicy {
  /** One shard per unit, whole (functional decomposition only). */
  FUNCTIONAL,
  /** Each unit cut into the given number of contiguous key ranges of equal size. */
  KEY_RANGE,
  /** Each unit cut into the given number of hash buckets over its whole range. */
  HASH,
  /**
   * Each unit cut into key ranges by its predicted cost, so that all shards of the request last about as long: a
   * budget of shards is spent where the cost is; a cheap unit stays whole (functional + key range, the Penumbra
   * default).
   */
  PREDICTED;

  public String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Parses a policy by its exact label: "functional", "key-range", "hash" or "predicted" (one spelling each). */
  public static ShardPolicy parse(String text) {
    for (ShardPolicy p : values()) {
      if (p.label().equals(text)) {
        return p;
      }
    }
    throw new IllegalArgumentException("a sharding policy must be one of "
        + Arrays.stream(values()).map(ShardPolicy::label).collect(Collectors.joining(", ")) + ", was '" + text + "'");
  }
}
