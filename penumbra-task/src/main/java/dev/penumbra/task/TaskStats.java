package dev.penumbra.task;

/**
 * Counters of an executor since it was built. Resource-time is integrated on the executor's clock:
 * reserved = what the ledger held for the tasks (base, warm and active), used = what the tasks held.
 *
 * @param submitted tasks submitted
 * @param completed tasks that ended (successfully or not)
 * @param failed tasks whose body threw (rejections included)
 * @param hits requests served at once
 * @param misses requests that waited for a grant
 * @param warmed warm reservations made
 * @param warmUsed warm reservations that became ACTIVE
 * @param warmDenied warm reservations the ledger had no room for
 * @param warmHelped units of warm reservations the task allocated itself because it asked before the warm-up
 *     threads had got to them (the reservation is kept and becomes ACTIVE)
 * @param graceReleases reservations released because they stayed unused for the grace period
 * @param queued requests that had to wait for capacity (fallback QUEUE)
 * @param degraded thread requests run with fewer threads (fallback DEGRADE)
 * @param rejected requests failed (fallback REJECT or queue timeout)
 * @param yielded other tasks' idle warm reservations given up to make room for a request
 * @param hookFailures prefetch hooks that threw
 * @param prefetchSkipped prefetch hooks not run because their type's hooks finish faster than {@code warmAbove}
 * @param ticks sampler ticks
 * @param taskSteps task observations across ticks (each running task counts once per tick)
 * @param fullSamples task observations that read the thread MXBean and updated the model
 * @param samplerCpuNanos CPU time spent by the sampler (measured on its thread)
 * @param reservedMemoryByteMillis memory held in the ledger for tasks, byte-milliseconds
 * @param usedMemoryByteMillis memory held by tasks, byte-milliseconds
 * @param reservedThreadMillis worker threads held in the ledger for tasks, thread-milliseconds
 * @param usedThreadMillis worker threads running task work, thread-milliseconds
 */
public record TaskStats(
    long submitted,
    long completed,
    long failed,
    long hits,
    long misses,
    long warmed,
    long warmUsed,
    long warmDenied,
    long warmHelped,
    long graceReleases,
    long queued,
    long degraded,
    long rejected,
    long yielded,
    long hookFailures,
    long prefetchSkipped,
    long ticks,
    long taskSteps,
    long fullSamples,
    long samplerCpuNanos,
    double reservedMemoryByteMillis,
    double usedMemoryByteMillis,
    double reservedThreadMillis,
    double usedThreadMillis) {}
