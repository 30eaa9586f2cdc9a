package dev.penumbra.task;

import dev.penumbra.core.Checks;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/** The {@link TaskContext} a task body gets: its requests go to {@link Requests}, its reports to the sampler. */
final class TaskContexts {

  private final ExecutorConfig cfg;
  private final Requests pool;
  private final Sampler sampler;

  TaskContexts(ExecutorConfig cfg, Requests pool, Sampler sampler) {
    this.cfg = cfg;
    this.pool = pool;
    this.sampler = sampler;
  }

  TaskContext of(TaskRun run) {
    return new TaskContext() {
      @Override
      public String taskId() {
        return run.id;
      }

      @Override
      public MemoryLease memory(long bytes) {
        return takeMemory(run, bytes);
      }

      @Override
      public int parallel(int threads, Runnable work) {
        return runParallel(run, threads, work);
      }

      @Override
      public ReadableByteChannel reading(ReadableByteChannel channel) {
        return CountingChannels.reading(channel, run.ioBytes);
      }

      @Override
      public WritableByteChannel writing(WritableByteChannel channel) {
        return CountingChannels.writing(channel, run.ioBytes);
      }

      @Override
      public void progress(double fraction) {
        if (!(fraction >= 0 && fraction <= 1)) {
          throw new IllegalArgumentException("progress must be in [0, 1], was " + fraction);
        }
        run.progressed = true;
        sampler.nudge(run);
      }
    };
  }

  private MemoryLease takeMemory(TaskRun run, long bytes) {
    Checks.positive("memory bytes", bytes);
    int blocks = cfg.blocksFor(bytes);
    List<Object> taken = pool.take(run, Units.Kind.MEMORY, blocks, false);
    long held = (long) taken.size() * cfg.blockBytes();
    Clock clock = cfg.clock();
    synchronized (run) {
      run.peak(run.model.profile().bucketOf(clock.millis() - run.startMillis), Signal.MEMORY.ordinal(),
          run.heldBytes);
    }
    if (run.heldBytes > run.upperBytes) {
      sampler.nudge(run);
    }
    return new MemoryLease() {
      private boolean closed;

      @Override
      public long bytes() {
        return held;
      }

      @Override
      public int blocks() {
        return taken.size();
      }

      @Override
      public byte[] block(int i) {
        return (byte[]) taken.get(i);
      }

      @Override
      public void close() {
        synchronized (this) {
          if (closed) {
            return;
          }
          closed = true;
        }
        pool.giveBack(run, Units.Kind.MEMORY, taken, true);
      }
    };
  }

  private int runParallel(TaskRun run, int threads, Runnable work) {
    if (threads < 1 || threads > 256) {
      throw new IllegalArgumentException("threads must be in 1..256, was " + threads);
    }
    if (work == null) {
      throw new IllegalArgumentException("work is missing");
    }
    List<Object> taken = pool.take(run, Units.Kind.THREAD, threads, true);
    if (taken.isEmpty()) {
      // Degraded to nothing: the caller's own thread does the work.
      work.run();
      return 1;
    }
    int n = taken.size();
    synchronized (run) {
      run.peak(run.model.profile().bucketOf(cfg.clock().millis() - run.startMillis), Signal.THREADS.ordinal(),
          run.heldThreads);
    }
    if (run.heldThreads > run.upperThreads) {
      sampler.nudge(run);
    }
    CountDownLatch done = new CountDownLatch(n);
    AtomicReference<Throwable> error = new AtomicReference<>();
    ThreadProbe probe = cfg.probe();
    for (Object t : taken) {
      ((Worker) t).run(() -> {
        long c0 = probe.currentThreadCpuNanos();
        try {
          work.run();
        } catch (Throwable e) {
          error.compareAndSet(null, e);
        } finally {
          run.workerCpuNanos.addAndGet(probe.currentThreadCpuNanos() - c0);
          done.countDown();
        }
      });
    }
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TaskWorkException("task " + run.id + " was interrupted waiting for its workers", e);
    } finally {
      pool.giveBack(run, Units.Kind.THREAD, taken, true);
    }
    if (error.get() != null) {
      throw new TaskWorkException("work of task " + run.id + " threw on a worker: " + error.get(), error.get());
    }
    return n;
  }
}
