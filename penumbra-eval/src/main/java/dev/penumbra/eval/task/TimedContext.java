package dev.penumbra.eval.task;

import dev.penumbra.task.MemoryLease;
import dev.penumbra.task.TaskBody;
import dev.penumbra.task.TaskContext;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Where one task's time went, measured by the bench around the executor's calls (the product's own counters lump
 * every wait into one stall): the wait before its body started (admission), and the time its memory requests
 * took (a grant's allocation and, on a full node, its wait for another task to give memory back).
 */
final class TimedContext implements TaskContext {

  /** One task's times in nanoseconds; {@code startNanos} is 0 until its body starts. */
  static final class Times {
    private final LongSupplier nanoTime;
    final long submitNanos;
    volatile long startNanos;
    /** Summed over the task's memory requests, which may come from several of its threads at once. */
    final LongAdder memoryNanos = new LongAdder();

    Times() {
      this(System::nanoTime);
    }

    /** Times read from {@code nanoTime} (a test's ticker). */
    Times(LongSupplier nanoTime) {
      this.nanoTime = nanoTime;
      this.submitNanos = nanoTime.getAsLong();
    }

    /** Milliseconds from the submission to the start of the body (the whole latency if it never started). */
    double admissionMs(double latencyMs) {
      return startNanos == 0 ? latencyMs : (startNanos - submitNanos) / 1e6;
    }

    double memoryMs() {
      return memoryNanos.sum() / 1e6;
    }
  }

  private final TaskContext ctx;
  private final Times times;

  private TimedContext(TaskContext ctx, Times times) {
    this.ctx = ctx;
    this.times = times;
  }

  /** {@code body} with its admission wait and its memory requests timed into {@code times}. */
  static TaskBody timed(TaskBody body, Times times) {
    return ctx -> {
      times.startNanos = times.nanoTime.getAsLong();
      body.run(new TimedContext(ctx, times));
    };
  }

  @Override
  public String taskId() {
    return ctx.taskId();
  }

  @Override
  public MemoryLease memory(long bytes) {
    long t0 = times.nanoTime.getAsLong();
    try {
      return ctx.memory(bytes);
    } finally {
      times.memoryNanos.add(times.nanoTime.getAsLong() - t0);
    }
  }

  @Override
  public int parallel(int threads, Runnable work) {
    return ctx.parallel(threads, work);
  }

  @Override
  public ReadableByteChannel reading(ReadableByteChannel channel) {
    return ctx.reading(channel);
  }

  @Override
  public WritableByteChannel writing(WritableByteChannel channel) {
    return ctx.writing(channel);
  }

  @Override
  public void progress(double fraction) {
    ctx.progress(fraction);
  }
}
