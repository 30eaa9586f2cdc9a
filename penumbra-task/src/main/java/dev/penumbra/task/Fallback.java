package dev.penumbra.task;

/**
 * What happens to a task's request that does not fit in the ledger even after other tasks' idle warm
 * reservations were given up. Every fallback is counted in {@link TaskStats} and logged.
 */
public enum Fallback {
  /** Wait until it fits (re-checked on every release and every few milliseconds), up to the queue timeout. */
  QUEUE,
  /** Threads: run with as many as fit (at least the caller's own thread). Memory cannot shrink: queues. */
  DEGRADE,
  /** Fail the request at once with {@link ResourceUnavailableException}. */
  REJECT
}
