package dev.penumbra.shard;

/**
 * Counters of a {@link ShardEngine} since it started.
 *
 * @param requests submitted and accepted
 * @param completed requests finished with every shard's result
 * @param failed requests given up (a shard out of attempts, or never placeable)
 * @param shards generated
 * @param attempts started (granted and dispatched)
 * @param retries attempts scheduled after a failure, a timeout or a lost backend
 * @param failures attempts reported failed by their backend
 * @param timeouts attempts taken for hung (ran past their timeout)
 * @param lost attempts on a backend that died
 * @param accepted shard results accepted (one per shard)
 * @param duplicates results dropped because the shard already had one
 * @param reservedCpuMilliSeconds millicores x seconds held by reservations
 * @param usedCpuMilliSeconds millicores x seconds measured as used by accepted and failed attempts
 * @param queuedMillis milliseconds attempts waited between asking for their reservation and getting it, summed
 * @param cancelled attempts given up while they ran (the losing one of a hedged pair, one past its last deadline,
 *     those of a cancelled or failed request): reservation released and a cancel sent to their backend
 */
public record EngineStats(long requests, long completed, long failed, long shards, long attempts, long retries,
    long failures, long timeouts, long lost, long accepted, long duplicates, double reservedCpuMilliSeconds,
    double usedCpuMilliSeconds, double queuedMillis, long cancelled) {}
