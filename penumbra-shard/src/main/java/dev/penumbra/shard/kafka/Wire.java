package dev.penumbra.shard.kafka;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.penumbra.shard.Shard;

/** What travels over Kafka, as JSON: shard attempts to a pool's topic, results and heartbeats back. */
final class Wire {

  static final ObjectMapper JSON = JsonMapper.builder()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      // Partial results are merged exactly: decimals stay BigDecimal, integers long.
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(DeserializationFeature.USE_LONG_FOR_INTS)
      .build();

  private Wire() {}

  /** The topic a backend pool's worker reads its shards from. */
  static String shardTopic(String backend) {
    return "penumbra.shards." + backend;
  }

  /** The one topic every worker writes results and heartbeats to. */
  static final String RESULTS = "penumbra.shard-results";

  /** The one topic the engine side writes cancels to; every worker reads it from its start (no group). */
  static final String CONTROL = "penumbra.shard-control";

  /**
   * Stop an attempt: the worker holding it interrupts it (or skips it if it has not started) and says so.
   *
   * @param backend the pool the attempt was sent to
   * @param attemptId the attempt
   */
  record Cancel(String backend, String attemptId) {}

  /**
   * A shard attempt sent to a pool.
   *
   * @param attemptId {@code shardId#number}, the key results are matched and deduplicated by
   * @param backend the pool it was reserved on
   * @param shard what to run
   * @param reservedCpuMillis what its reservation holds
   */
  record Task(String attemptId, String backend, Shard shard, long reservedCpuMillis) {}

  /**
   * A worker's message on the results topic: a result ({@code attemptId} set) or a heartbeat.
   *
   * @param backend the worker's pool
   * @param attemptId the attempt, or null for a heartbeat
   * @param value the shard's partial result (JSON) when it succeeded
   * @param error why it failed, else null
   * @param usedCpuMillis measured CPU of the attempt (thread CPU time over wall time), millicores
   * @param ranNanos how long it ran
   * @param busy attempts running on the worker now (heartbeats)
   * @param capacity attempts the worker runs at once (heartbeats)
   * @param worker the worker's id within its pool
   * @param partitions the pool topic's partitions the worker reads now (heartbeats)
   * @param cancelled true when the attempt was stopped (or skipped) on a cancel: no result, nothing to accept
   */
  record Message(String backend, String attemptId, JsonNode value, String error, long usedCpuMillis, long ranNanos,
      int busy, int capacity, String worker, java.util.List<Integer> partitions, boolean cancelled) {

    boolean heartbeat() {
      return attemptId == null;
    }
  }
}
