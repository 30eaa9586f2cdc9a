package dev.penumbra.shard;

import dev.penumbra.core.Resources;
import java.time.Duration;

/**
 * One run of a shard on one backend.
 *
 * @param id {@code shardId#number}
 * @param shard what to run
 * @param number 1 for the first attempt, then 2, 3, ...
 * @param reservationId the ledger reservation it runs on
 * @param reserved the reserved amount
 * @param timeout after this long it is taken for hung and retried elsewhere
 */
public record Attempt(String id, Shard shard, int number, long reservationId, Resources reserved, Duration timeout) {}
