package dev.penumbra.task;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A ManualClock world: a ledger, a scripted thread probe, an executor ticked by hand, warm-ups run inline. */
final class Scripted {

  static final long MIB = 1L << 20;

  final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
  final Ledger ledger;
  final Map<Long, Long> cpu = new ConcurrentHashMap<>();
  final TaskExecutor executor;
  private long nextThread = 1_000_000;

  Scripted(Resources capacity, TaskExecutor.Builder... ignored) {
    this(capacity, b -> b);
  }

  Scripted(Resources capacity, java.util.function.UnaryOperator<TaskExecutor.Builder> options) {
    ledger = Ledger.inMemory(clock);
    ledger.addNode("jvm", capacity);
    ThreadProbe probe = new ThreadProbe() {
      @Override
      public long[] cpuNanos(long[] ids) {
        long[] out = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
          out[i] = cpu.getOrDefault(ids[i], 0L);
        }
        return out;
      }

      @Override
      public long[] allocatedBytes(long[] ids) {
        return new long[ids.length];
      }

      @Override
      public long currentThreadCpuNanos() {
        return 0;
      }
    };
    executor = options.apply(TaskExecutor.builder(ledger, "jvm")
            .clock(clock)
            .sampling(false)
            .warmer(Runnable::run)
            .probe(probe)
            .interval(Duration.ofMillis(10))
            .horizon(Duration.ofMillis(50))
            .bucket(Duration.ofMillis(10))
            .grace(Duration.ofMillis(200))
            .warmAbove(Duration.ZERO)
            .blockSize(MIB)
            // The warm-up mechanism is what most scripted tests look at: admission at the demand over the lead.
            .phasedAdmission(false))
        .build();
  }

  /** Registers and admits a task as if on its own (scripted) thread. */
  TaskRun start(TaskSpec spec) {
    TaskRun run = executor.register(spec, nextThread++);
    executor.admit(run);
    return run;
  }

  /**
   * Runs one task of the usual shape of its type: ticks every 10 ms from elapsed 0; at {@code stepAt} it takes
   * {@code bytes}, at {@code endAt} it gives them back and ends.
   */
  void typical(TaskSpec spec, long stepAt, long bytes, long endAt) {
    TaskRun run = start(spec);
    TaskContext ctx = executor.context(run);
    MemoryLease lease = null;
    for (long e = 0; e < endAt; e += 10) {
      if (e == stepAt) {
        lease = ctx.memory(bytes);
      }
      executor.tick();
      clock.advance(Duration.ofMillis(10));
    }
    if (lease != null) {
      lease.close();
    }
    executor.complete(run, null);
  }

  /** Runs {@code tasks} typical tasks of {@code spec} (8 MiB taken at 100 ms, given back at the end, 200 ms). */
  void learned(TaskSpec spec, int tasks) {
    for (int i = 0; i < tasks; i++) {
      typical(spec, 100, 8 * MIB, 200);
    }
  }

  /** Ticks the executor every 10 ms of the clock for {@code millis}. */
  void tickFor(long millis) {
    for (long e = 0; e < millis; e += 10) {
      executor.tick();
      clock.advance(Duration.ofMillis(10));
    }
  }

  /** What {@link #nextStep} saw: the memory warmed just before the step, and the finished task. */
  record Step(long warmBytes, TaskRun run) {}

  /** Starts a task of {@code spec}, ticks up to its step at 100 ms, takes the step's 8 MiB, gives it back, ends. */
  Step nextStep(TaskSpec spec) {
    TaskRun run = start(spec);
    tickFor(100);
    long warm = warmBytes(run);
    executor.context(run).memory(8 * MIB).close();
    executor.complete(run, null);
    return new Step(warm, run);
  }

  List<Reservation> live(String owner) {
    return ledger.snapshot().reservations().stream().filter(r -> r.owner().equals(owner)).toList();
  }

  /** Memory the run's reservation holds beyond what the task has taken: warmed ahead of need. */
  long warmBytes(TaskRun run) {
    long reserved = live(run.id).stream().mapToLong(r -> r.amount().memoryBytes()).sum();
    long used;
    synchronized (run) {
      used = (long) run.memory.inUse * MIB;
    }
    return reserved - used;
  }
}
