package dev.penumbra.task;

import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * What a running task uses to take resources and report on itself. Requests are served from what is already
 * reserved for the task (its base, warm reservations, what it used before and gave back) without waiting;
 * beyond that they are granted on the spot, which takes real time (threads are started, memory allocated and
 * touched) and is counted as stall.
 */
public interface TaskContext {

  String taskId();

  /**
   * Memory from the executor's pool, in whole blocks, held until the lease is closed. Blocks until granted.
   *
   * @param bytes > 0
   * @throws ResourceUnavailableException when the fallback of the task's priority rejects it (or a queue
   *     wait times out)
   */
  MemoryLease memory(long bytes);

  /**
   * Runs {@code work} on {@code threads} worker threads at once and waits for all of them. Under the DEGRADE
   * fallback fewer threads may run it (at least one: the caller's own thread when no worker can be had).
   *
   * @param threads 1..256
   * @return how many threads ran it
   * @throws ResourceUnavailableException as for {@link #memory}
   * @throws TaskWorkException when {@code work} threw on a worker (the first failure is its cause)
   */
  int parallel(int threads, Runnable work);

  /** A channel that counts the bytes read through it into the task's IO signal. */
  ReadableByteChannel reading(ReadableByteChannel channel);

  /** A channel that counts the bytes written through it into the task's IO signal. */
  WritableByteChannel writing(WritableByteChannel channel);

  /**
   * Reports progress in [0, 1]; a report makes the sampler take a full sample of the task at its next tick
   * (a phase change the task knows of is seen at once).
   */
  void progress(double fraction);
}
