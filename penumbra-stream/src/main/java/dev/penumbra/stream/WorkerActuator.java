package dev.penumbra.stream;

import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.loop.Actuator;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Makes a partition's reservation true: runs {@code ceil(cpu / 1 core)} workers (within the planner's bounds)
 * on the {@link ScalingTarget} — the embedded runtime's worker threads, which also serve a Kafka topic's
 * records — for the reservation of owner {@code <stream>/p<n>}. Released, the partition falls back to the
 * minimum.
 *
 * <p>Acquisition lag: the configured worker start-up time, or, when none is configured, the measured time a
 * scale-up call took (an exponentially weighted mean), which is what starting threads costs here.
 */
final class WorkerActuator implements Actuator {

  private final ScalingTarget target;
  private final PlannerConfig config;
  private final Duration startup;
  private final Map<Long, Integer> partitions = new ConcurrentHashMap<>();
  private final AtomicLong scalings = new AtomicLong();
  private volatile double measuredLagNanos;

  private final double tolerance;

  WorkerActuator(ScalingTarget target, PlannerConfig config, Duration startup) {
    this(target, config, startup, 0);
  }

  WorkerActuator(ScalingTarget target, PlannerConfig config, Duration startup, double tolerance) {
    this.tolerance = tolerance;
    this.target = target;
    this.config = config;
    this.startup = startup;
  }

  @Override
  public Duration acquisitionLag() {
    return startup != null ? startup : Duration.ofNanos(Math.round(measuredLagNanos));
  }

  @Override
  public void acquire(Reservation reservation) {
    apply(reservation, reservation.amount());
  }

  /** Only a reservation acquired and not yet released: a resize arriving after the release starts nothing. */
  @Override
  public void resize(Reservation reservation, Resources amount) {
    if (partitions.containsKey(reservation.id())) {
      apply(reservation, amount);
    }
  }

  @Override
  public void release(Reservation reservation) {
    Integer p = partitions.remove(reservation.id());
    if (p != null) {
      scale(p, config.minWorkers());
    }
  }

  /** Worker-count changes applied so far. */
  long scalings() {
    return scalings.get();
  }

  /** The workers a reservation of {@code amount} runs. */
  int workersFor(Resources amount) {
    long w = (amount.cpuMillis() + 999) / 1000;
    return (int) Math.max(config.minWorkers(), Math.min(config.maxWorkers(), w));
  }

  private void apply(Reservation reservation, Resources amount) {
    Integer p = partitions.get(reservation.id());
    if (p == null) {
      p = partitionOf(reservation.owner());
      partitions.put(reservation.id(), p);
    }
    int want = workersFor(amount);
    int now = target.workers(p);
    // Within the tolerance above the running workers, and while no more records wait than there are workers, no
    // worker starts: it would cost a whole core for a sliver of forecast need that is not queueing.
    if (want > now && amount.cpuMillis() <= now * 1000L * (1 + tolerance) && target.backlog(p) <= now) {
      want = now;
    }
    scale(p, want);
  }

  private void scale(int partition, int workers) {
    int now = target.workers(partition);
    if (workers == now) {
      return;
    }
    long t0 = System.nanoTime();
    try {
      target.scale(partition, workers);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while scaling partition " + partition + " to " + workers, e);
    }
    scalings.incrementAndGet();
    if (workers > now) {
      double took = System.nanoTime() - t0;
      measuredLagNanos = measuredLagNanos == 0 ? took : 0.8 * measuredLagNanos + 0.2 * took;
    }
  }

  /** The partition of owner {@code <stream>/p<n>}. */
  static int partitionOf(String owner) {
    int at = owner.lastIndexOf("/p");
    if (at < 0) {
      throw new IllegalArgumentException("owner '" + owner + "' names no partition (expected <stream>/p<n>)");
    }
    return Integer.parseInt(owner.substring(at + 2));
  }
}
