package dev.penumbra.shard;

import dev.penumbra.core.Resources;

/**
 * How one shard went.
 *
 * @param shard the shard
 * @param value its partial result (the accepted attempt's)
 * @param attempts attempts started
 * @param backend where the accepted attempt ran
 * @param predictedP50Millis predicted duration, median
 * @param predictedP99Millis predicted duration, 99th percentile (its timeout derives from it)
 * @param reserved what the accepted attempt's reservation held
 * @param ranMillis how long the accepted attempt ran
 * @param predicted the predicted resources (point) its reservation was sized from
 * @param used what the accepted attempt was measured to use (ZERO when its backend does not measure)
 */
public record ShardReport(Shard shard, Object value, int attempts, String backend, double predictedP50Millis,
    double predictedP99Millis, Resources reserved, double ranMillis, Resources predicted, Resources used) {}
