package dev.penumbra.shard;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The embedded backend: a fixed thread pool per priority in this JVM, running one {@link ShardFunction}. CPU use is
 * measured per attempt with the thread's CPU time ({@link ThreadMXBean}). {@link #kill()} ends it as a crash would:
 * running attempts are interrupted and never report, later submissions are dropped.
 */
public final class InProcessBackend implements Backend, AutoCloseable {

  private final String id;
  private final Resources capacity;
  private final ShardFunction function;
  private final Map<Priority, ExecutorService> pools = new EnumMap<>(Priority.class);
  private final Map<Priority, Integer> threads = new EnumMap<>(Priority.class);
  private final Map<Priority, AtomicInteger> busy = new EnumMap<>(Priority.class);
  private final java.util.concurrent.atomic.AtomicLong cancelled = new java.util.concurrent.atomic.AtomicLong();
  /** Attempts stopped on a cancel: they answer nothing (the engine gave them up already). */
  private final java.util.Set<String> stopped = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final Map<String, Future<?>> running = new ConcurrentHashMap<>();
  private final Map<String, long[]> started = new ConcurrentHashMap<>();
  private final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
  private volatile boolean alive = true;

  /**
   * @param id its node id
   * @param capacity its node's capacity
   * @param threadsPerPriority threads of each priority's pool (each >= 1; every priority must be given)
   * @param function what it runs
   */
  public InProcessBackend(String id, Resources capacity, Map<Priority, Integer> threadsPerPriority,
      ShardFunction function) {
    if (id == null || id.isBlank()) {
      throw new IllegalArgumentException("backend id must not be blank, was '" + id + "'");
    }
    if (capacity == null || capacity.isZero()) {
      throw new IllegalArgumentException("backend '" + id + "' capacity must be non-zero, was " + capacity);
    }
    if (function == null) {
      throw new IllegalArgumentException("backend '" + id + "' function is missing");
    }
    for (Priority p : Priority.values()) {
      Integer n = threadsPerPriority == null ? null : threadsPerPriority.get(p);
      if (n == null || n < 1) {
        throw new IllegalArgumentException("backend '" + id + "' pool " + p.label() + " threads must be >= 1, was " + n);
      }
    }
    this.id = id;
    this.capacity = capacity;
    this.function = function;
    for (Priority p : Priority.values()) {
      int n = threadsPerPriority.get(p);
      threads.put(p, n);
      busy.put(p, new AtomicInteger());
      pools.put(p, Executors.newFixedThreadPool(n, r -> {
        Thread t = new Thread(r, "shard-" + id + "-" + p.label());
        t.setDaemon(true);
        return t;
      }));
    }
  }

  /** A backend with {@code threads} threads in every priority's pool. */
  public static InProcessBackend of(String id, Resources capacity, int threads, ShardFunction function) {
    Map<Priority, Integer> m = new EnumMap<>(Priority.class);
    for (Priority p : Priority.values()) {
      m.put(p, threads);
    }
    return new InProcessBackend(id, capacity, m, function);
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public Resources capacity() {
    return capacity;
  }

  @Override
  public void submit(Attempt attempt, Consumer<AttemptResult> done) {
    if (!alive) {
      return;
    }
    Priority p = attempt.shard().priority();
    try {
      Future<?> f = pools.get(p).submit(() -> run(attempt, p, done));
      running.put(attempt.id(), f);
    } catch (RejectedExecutionException killed) {
      // Killed meanwhile: like a crashed process, it says nothing.
    }
  }

  private void run(Attempt attempt, Priority p, Consumer<AttemptResult> done) {
    busy.get(p).incrementAndGet();
    long t0 = System.nanoTime();
    long cpu0 = mx.getCurrentThreadCpuTime();
    started.put(attempt.id(), new long[] {t0, Thread.currentThread().threadId(), cpu0});
    AttemptResult result;
    try {
      Object value = function.apply(attempt.shard());
      long wall = Math.max(1, System.nanoTime() - t0);
      long cpu = Math.max(0, mx.getCurrentThreadCpuTime() - cpu0);
      long millicores = Math.min(1000, Math.round(1000.0 * cpu / wall));
      result = AttemptResult.success(attempt.id(), id, value, Resources.cpu(millicores), Duration.ofNanos(wall));
    } catch (Exception | Error e) {
      result = AttemptResult.failure(attempt.id(), id, e.getClass().getSimpleName() + ": " + e.getMessage(),
          Duration.ofNanos(System.nanoTime() - t0));
    } finally {
      busy.get(p).decrementAndGet();
      running.remove(attempt.id());
      started.remove(attempt.id());
    }
    // A cancelled attempt that stopped answers nothing (the engine gave it up); one that ran to its end anyway
    // answers as usual and the engine drops the repeat.
    boolean stoppedByCancel = stopped.remove(attempt.id()) && !result.succeeded();
    if (stoppedByCancel) {
      cancelled.incrementAndGet();
    }
    if (alive && !stoppedByCancel) {
      done.accept(result);
    }
  }

  @Override
  public void cancel(String attemptId) {
    Future<?> f = running.remove(attemptId);
    if (f != null) {
      stopped.add(attemptId);
      if (!f.cancel(true)) {
        stopped.remove(attemptId);
      } else if (!started.containsKey(attemptId)) {
        // Dropped before it started: it never runs.
        stopped.remove(attemptId);
        cancelled.incrementAndGet();
      }
    }
  }

  /** Attempts stopped (interrupted, or dropped before they started) on a cancel. */
  public long cancelled() {
    return cancelled.get();
  }

  @Override
  public boolean alive() {
    return alive;
  }

  /** Ends it as a crash would: nothing running reports, nothing more runs. */
  public void kill() {
    alive = false;
    for (ExecutorService e : pools.values()) {
      e.shutdownNow();
    }
  }

  @Override
  public Map<Priority, Double> utilization() {
    Map<Priority, Double> m = new EnumMap<>(Priority.class);
    for (Priority p : Priority.values()) {
      m.put(p, alive ? (double) busy.get(p).get() / threads.get(p) : 0.0);
    }
    return m;
  }

  @Override
  public Optional<Resources> usage(String attemptId) {
    long[] s = started.get(attemptId);
    if (s == null) {
      return Optional.empty();
    }
    long now = mx.getThreadCpuTime(s[1]);
    long cpu = now < 0 ? -1 : Math.max(0, now - s[2]);
    long wall = Math.max(1, System.nanoTime() - s[0]);
    return cpu < 0 ? Optional.empty() : Optional.of(Resources.cpu(Math.min(1000, Math.round(1000.0 * cpu / wall))));
  }

  @Override
  public void close() {
    kill();
  }
}
