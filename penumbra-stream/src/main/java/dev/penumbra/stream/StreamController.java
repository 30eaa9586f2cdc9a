package dev.penumbra.stream;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.InsufficientCapacityException;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The stream's loop, one {@link #tick()} per planner interval: read what the shadow saw in the interval
 * (arrival rate = sampled records / sampling rate / interval; cost = measured CPU per record), feed the
 * planner, plan every partition, reserve the plan in the ledger, then scale the partition's workers.
 *
 * <p>Ledger: one reservation per partition (owner {@code stream/p<n>}, ACTIVE, lease 3 intervals, renewed each
 * tick) sized at the plan's first horizon and at least the workers now. When growing it does not fit, the
 * partition keeps its workers (it is not scaled beyond what is reserved) and the shortfall is counted.
 */
public final class StreamController {

  private final StreamPlanner planner;
  private final ScalingTarget target;
  private final Shadow shadow;
  private final double samplingRate;
  private final Clock clock;
  private final Ledger ledger;
  private final String node;
  private final Priority priority;
  private final Map<Integer, ShadowStats> last = new HashMap<>();
  private final Map<Integer, Long> reservations = new HashMap<>();
  private Map<Integer, PartitionPlan> lastPlan = Map.of();
  private long lastMillis;
  private long scalings;
  private long shortfalls;

  /**
   * @param ledger may be null (plan and scale without reserving)
   * @param node the ledger node the stream runs on (ignored without a ledger)
   */
  public StreamController(StreamPlanner planner, ScalingTarget target, Shadow shadow, Sampling sampling,
      Clock clock, Ledger ledger, String node) {
    if (planner == null || target == null || shadow == null || sampling == null || clock == null) {
      throw new IllegalArgumentException("planner, target, shadow, sampling and clock are all required");
    }
    if (ledger != null && ledger.nodes().stream().noneMatch(n -> n.id().equals(node))) {
      throw new IllegalArgumentException("unknown ledger node '" + node + "'");
    }
    this.planner = planner;
    this.target = target;
    this.shadow = shadow;
    this.samplingRate = sampling.rate();
    this.clock = clock;
    this.ledger = ledger;
    this.node = node;
    this.priority = planner.config().priority();
    for (int p = 0; p < target.partitions(); p++) {
      planner.addPartition(p);
      last.put(p, shadow.stats(p));
    }
    this.lastMillis = clock.millis();
  }

  /** Observes the interval since the previous tick, plans, reserves and scales. Returns the plans. */
  public Map<Integer, PartitionPlan> tick() throws InterruptedException {
    long now = clock.millis();
    double seconds = Math.max(1e-3, (now - lastMillis) / 1e3);
    lastMillis = now;
    Map<Integer, Long> backlogs = new TreeMap<>();
    for (int p = 0; p < target.partitions(); p++) {
      ShadowStats cur = shadow.stats(p);
      ShadowStats d = cur.minus(last.get(p));
      last.put(p, cur);
      // Offered counts every sampled record, dropped ones too: the rate does not depend on the shadow keeping up.
      double rate = d.offered() / samplingRate / seconds;
      planner.observe(p, now, rate, d.cpuSecondsPerRecord());
      backlogs.put(p, target.backlog(p));
    }
    Map<Integer, PartitionPlan> plans = planner.plan(backlogs);
    for (PartitionPlan plan : plans.values()) {
      int want = plan.workers();
      if (ledger != null && !reserve(plan)) {
        want = Math.min(want, target.workers(plan.partition()));
      }
      if (want != target.workers(plan.partition())) {
        target.scale(plan.partition(), want);
        scalings++;
      }
    }
    lastPlan = plans;
    return plans;
  }

  private boolean reserve(PartitionPlan plan) {
    Resources first = plan.horizons().get(0).resources();
    Resources amount = first.max(Resources.of(plan.workers() * 1000L,
        plan.workers() * planner.config().workerMemoryBytes()));
    Duration lease = planner.config().interval().multipliedBy(3);
    Long id = reservations.get(plan.partition());
    try {
      if (id == null || ledger.get(id).map(r -> !r.isLive()).orElse(true)) {
        Reservation r = ledger.reserve("stream/p" + plan.partition(), node, amount, priority, lease,
            Reservation.State.ACTIVE);
        reservations.put(plan.partition(), r.id());
      } else {
        ledger.resize(id, amount);
        ledger.renew(id, lease);
      }
      return true;
    } catch (InsufficientCapacityException e) {
      shortfalls++;
      return false;
    }
  }

  /** The plans of the last tick. */
  public Map<Integer, PartitionPlan> lastPlan() {
    return lastPlan;
  }

  public StreamPlanner planner() {
    return planner;
  }

  /** Scale changes applied so far. */
  public long scalings() {
    return scalings;
  }

  /** Ticks where a partition could not grow its reservation. */
  public long shortfalls() {
    return shortfalls;
  }

  /** The partition's live reservation id, if any. */
  public java.util.Optional<Long> reservation(int partition) {
    return java.util.Optional.ofNullable(reservations.get(partition));
  }
}
