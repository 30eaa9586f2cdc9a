package dev.penumbra.stream;

import dev.penumbra.core.Checks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The embedded runtime: an in-process partitioned stream, each partition with its own pool of worker threads.
 *
 * <p>Routing: a record goes to worker {@code hash(key) mod workers} of its partition (a null key by its
 * position), each worker with a bounded queue; a full queue blocks {@link #submit} (back-pressure). Records of
 * one key therefore run one at a time, in submission order.
 *
 * <p>Scaling ({@link #scale}) keeps that order and loses nothing: at a change from {@code n} to {@code m}
 * workers, each old worker gets a fence (how many records it had been given). A key whose worker changes is
 * routed to its new worker only once its old worker has finished everything before the fence; until then
 * submissions of that key wait (other keys flow). Retired workers finish their queue, then stop. A further
 * change first waits until the previous fences are passed.
 *
 * <p>Sampling for the shadow happens at submission, under the partition's lock, so it is deterministic for a
 * given submission order. Thread-safe.
 */
public final class EmbeddedStream implements AutoCloseable, ScalingTarget {

  private static final Object STOP = new Object();

  private final RecordProcessor processor;
  private final Shadow shadow;
  private final Partition[] partitions;
  private final int queueCapacity;
  private final int maxWorkers;
  private volatile boolean closed;

  private EmbeddedStream(Builder b) {
    this.processor = b.processor;
    this.shadow = b.shadow;
    this.queueCapacity = b.queueCapacity;
    this.maxWorkers = b.maxWorkers;
    this.partitions = new Partition[b.partitions];
    for (int p = 0; p < b.partitions; p++) {
      partitions[p] = new Partition(p, b.sampling == null ? null : b.sampling.sampler(p));
      partitions[p].resize(b.initialWorkers);
    }
  }

  public static Builder builder(int partitions, RecordProcessor processor) {
    return new Builder(partitions, processor);
  }

  /** Options of the embedded runtime; validated by {@link #build()}. */
  public static final class Builder {
    private final int partitions;
    private final RecordProcessor processor;
    private int initialWorkers = 1;
    private int maxWorkers = 64;
    private int queueCapacity = 1024;
    private Sampling sampling;
    private Shadow shadow;

    private Builder(int partitions, RecordProcessor processor) {
      this.partitions = partitions;
      this.processor = processor;
    }

    /** Workers per partition at start (>= 1, default 1). */
    public Builder initialWorkers(int n) {
      this.initialWorkers = n;
      return this;
    }

    /** Upper bound of workers per partition (default 64). */
    public Builder maxWorkers(int n) {
      this.maxWorkers = n;
      return this;
    }

    /** Capacity of each worker's queue (>= 1, default 1024). */
    public Builder queueCapacity(int n) {
      this.queueCapacity = n;
      return this;
    }

    /** Sends a sample of every partition to {@code shadow}, chosen by {@code sampling}. */
    public Builder shadow(Sampling sampling, Shadow shadow) {
      this.sampling = sampling;
      this.shadow = shadow;
      return this;
    }

    public EmbeddedStream build() {
      Checks.atLeast("partitions", partitions, 1);
      if (processor == null) {
        throw new IllegalArgumentException("processor is missing");
      }
      Checks.atLeast("maxWorkers", maxWorkers, 1);
      if (initialWorkers < 1 || initialWorkers > maxWorkers) {
        throw new IllegalArgumentException("initialWorkers must be in 1.." + maxWorkers + ", was " + initialWorkers);
      }
      Checks.atLeast("queueCapacity", queueCapacity, 1);
      if ((sampling == null) != (shadow == null)) {
        throw new IllegalArgumentException("shadow needs both a sampling and a shadow");
      }
      return new EmbeddedStream(this);
    }
  }

  @Override
  public int partitions() {
    return partitions.length;
  }

  /**
   * Accepts a record, waiting while its worker's queue is full (back-pressure).
   *
   * @throws IllegalArgumentException for an unknown partition
   * @throws IllegalStateException once closed
   */
  public void submit(StreamRecord record) throws InterruptedException {
    partition(record.partition()).submit(record);
  }

  /** Sets the partition's number of workers (1..maxWorkers); see the class comment for the handover. */
  @Override
  public void scale(int partition, int workers) throws InterruptedException {
    if (workers < 1 || workers > maxWorkers) {
      throw new IllegalArgumentException("workers must be in 1.." + maxWorkers + ", was " + workers);
    }
    Partition p = partition(partition);
    p.lock.lockInterruptibly();
    try {
      if (closed) {
        throw new IllegalStateException("stream is closed");
      }
      p.awaitFences();
      p.resize(workers);
    } finally {
      p.lock.unlock();
    }
  }

  @Override
  public int workers(int partition) {
    return partition(partition).workers.size();
  }

  public PartitionStats stats(int partition) {
    Partition p = partition(partition);
    long busy = p.retiredBusy.get();
    for (Worker w : p.snapshotWorkers()) {
      busy += w.busyNanos.get();
    }
    // processed before submitted: both only grow, so the snapshot's submitted is at least its processed except
    // for records a worker finished before their submission was counted (see PartitionStats.backlog).
    long processed = p.processed.get();
    long submitted = p.submitted.get();
    return new PartitionStats(partition, p.workers.size(), submitted, processed, p.failed.get(),
        p.sampled.get(), busy, p.scalings.get());
  }

  @Override
  public long busyNanos(int partition) {
    return stats(partition).busyNanos();
  }

  @Override
  public long processed(int partition) {
    return stats(partition).processed();
  }

  @Override
  public long backlog(int partition) {
    return stats(partition).backlog();
  }

  /** Waits until every accepted record has been processed; false on timeout. */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Partition p : partitions) {
      while (p.processed.get() < p.submitted.get()) {
        if (System.nanoTime() > deadline) {
          return false;
        }
        // A signal would put a monitor on every record's path; this wait serves tests, benches and shutdown only.
        Thread.sleep(1);
      }
    }
    return true;
  }

  /**
   * Stops accepting, lets every worker finish its queue, and waits for them (up to 30 s each). When interrupted
   * it stops waiting (the workers still finish) and keeps the interrupt flag set.
   */
  @Override
  public void close() {
    try {
      shutdown();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void shutdown() throws InterruptedException {
    closed = true;
    List<Worker> all = new ArrayList<>();
    for (Partition p : partitions) {
      p.lock.lock();
      try {
        for (Worker w : p.workers) {
          w.queue.put(STOP);
          all.add(w);
        }
        all.addAll(p.retiring);
      } finally {
        p.lock.unlock();
      }
    }
    for (Worker w : all) {
      w.thread.join(30_000);
    }
  }

  private Partition partition(int partition) {
    if (partition < 0 || partition >= partitions.length) {
      throw new IllegalArgumentException(
          "unknown partition " + partition + " (the stream has partitions 0.." + (partitions.length - 1) + ")");
    }
    return partitions[partition];
  }

  static int route(String key, long position, int workers) {
    long h = key == null ? Sampling.mix(position) : Sampling.keyHash(key, 0x5eed);
    return (int) Math.floorMod(h, (long) workers);
  }

  private final class Partition {
    final int id;
    final Sampling.Sampler sampler;
    final ReentrantLock lock = new ReentrantLock();
    final AtomicLong submitted = new AtomicLong();
    final AtomicLong processed = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong sampled = new AtomicLong();
    final AtomicLong retiredBusy = new AtomicLong();
    final AtomicLong scalings = new AtomicLong(-1);
    volatile List<Worker> workers = List.of();
    final List<Worker> retiring = new java.util.concurrent.CopyOnWriteArrayList<>();
    // The previous assignment while a handover is in progress: its workers and their fences.
    List<Worker> previous;
    long[] fences;
    long position;

    Partition(int id, Sampling.Sampler sampler) {
      this.id = id;
      this.sampler = sampler;
    }

    List<Worker> snapshotWorkers() {
      List<Worker> all = new ArrayList<>(workers);
      all.addAll(retiring);
      return all;
    }

    void submit(StreamRecord record) throws InterruptedException {
      long backoff = 1_000;
      // The lock is never held while waiting for queue room, so stats and scaling go on under back-pressure;
      // the route is recomputed after every wait because a scale change may have happened meanwhile.
      while (true) {
        lock.lockInterruptibly();
        try {
          if (closed) {
            throw new IllegalStateException("stream is closed");
          }
          long pos = position;
          List<Worker> ws = workers;
          int target = route(record.key(), pos, ws.size());
          if (previous != null) {
            int old = route(record.key(), pos, previous.size());
            Worker was = previous.get(old);
            if (was != ws.get(target)) {
              // The key moves: wait until its old worker has finished what it was given before the change.
              while (was.completed.get() < fences[old]) {
                // A rare, sub-millisecond wait on the record path, where a monitor per record would cost more.
                Thread.sleep(0, 50_000);
              }
            }
            clearFencesIfPassed();
          }
          Worker w = ws.get(target);
          // One slot stays free for the stop marker, so retiring a worker never waits under the lock.
          if (w.queue.size() < queueCapacity && w.queue.offer(record)) {
            w.given++;
            position = pos + 1;
            submitted.incrementAndGet();
            if (sampler != null && sampler.test(record.key())) {
              sampled.incrementAndGet();
              shadow.offer(record);
            }
            return;
          }
        } finally {
          lock.unlock();
        }
        java.util.concurrent.locks.LockSupport.parkNanos(backoff);
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
        backoff = Math.min(1_000_000, backoff * 2);
      }
    }

    void clearFencesIfPassed() {
      for (int i = 0; i < previous.size(); i++) {
        if (previous.get(i).completed.get() < fences[i]) {
          return;
        }
      }
      previous = null;
      fences = null;
    }

    void awaitFences() throws InterruptedException {
      while (previous != null) {
        clearFencesIfPassed();
        if (previous != null) {
          // As above: the fences pass within microseconds of a resize.
          Thread.sleep(0, 100_000);
        }
      }
    }

    /** Called under the lock (or from the constructor) with no handover in progress. */
    void resize(int n) {
      List<Worker> old = workers;
      if (n == old.size()) {
        return;
      }
      scalings.incrementAndGet();
      if (!old.isEmpty()) {
        fences = new long[old.size()];
        for (int i = 0; i < old.size(); i++) {
          fences[i] = old.get(i).given;
        }
        previous = old;
      }
      List<Worker> next = new ArrayList<>(old.subList(0, Math.min(n, old.size())));
      for (int i = old.size(); i < n; i++) {
        next.add(new Worker(this, i));
      }
      for (int i = n; i < old.size(); i++) {
        Worker w = old.get(i);
        retiring.add(w);
        // Everything already queued runs first; the queue has room or put waits for the worker.
        try {
          w.queue.put(STOP);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      workers = List.copyOf(next);
      if (old.isEmpty()) {
        scalings.set(0);
      }
    }
  }

  private final class Worker {
    final Partition partition;
    final ArrayBlockingQueue<Object> queue = new ArrayBlockingQueue<>(queueCapacity + 1);
    final AtomicLong completed = new AtomicLong();
    final AtomicLong busyNanos = new AtomicLong();
    final Thread thread;
    long given; // guarded by the partition's lock

    Worker(Partition partition, int index) {
      this.partition = partition;
      this.thread = Thread.ofPlatform().daemon()
          .name("penumbra-stream-p" + partition.id + "-w" + index).start(this::loop);
    }

    private void loop() {
      while (true) {
        Object o;
        try {
          o = queue.poll(100, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          return;
        }
        if (o == null) {
          continue;
        }
        if (o == STOP) {
          partition.lock.lock();
          try {
            partition.retiring.remove(this);
            partition.retiredBusy.addAndGet(busyNanos.get());
            busyNanos.set(0);
          } finally {
            partition.lock.unlock();
          }
          return;
        }
        long t0 = System.nanoTime();
        try {
          processor.process((StreamRecord) o);
        } catch (Exception e) {
          partition.failed.incrementAndGet();
        }
        busyNanos.addAndGet(System.nanoTime() - t0);
        completed.incrementAndGet();
        partition.processed.incrementAndGet();
      }
    }
  }
}
