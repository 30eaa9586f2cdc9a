package dev.penumbra.shard;

import dev.penumbra.core.Priority;
import java.util.Set;

/**
 * One piece of a request, dispatched on its own reservation. Its id is stable ({@code request/unit/index}): a retry
 * runs the same shard again, and its result is counted once whichever attempt delivers it.
 *
 * @param id {@code requestId/unit/index}
 * @param requestId the request it belongs to
 * @param unit the unit it is a piece of
 * @param function the processing function
 * @param subset the data it processes
 * @param dependsOn ids of shards that must finish before it may start
 * @param priority from the request's SLA
 */
public record Shard(String id, String requestId, String unit, String function, Subset subset, Set<String> dependsOn,
    Priority priority) {

  public Shard {
    if (id == null || id.isBlank()) {
      throw new IllegalArgumentException("shard id must not be blank, was '" + id + "'");
    }
    if (subset == null) {
      throw new IllegalArgumentException("shard '" + id + "' subset is missing");
    }
    if (priority == null) {
      throw new IllegalArgumentException("shard '" + id + "' priority is missing");
    }
    dependsOn = dependsOn == null ? Set.of() : Set.copyOf(dependsOn);
  }

  /** How many keys it processes. */
  public long keys() {
    return subset.size();
  }
}
