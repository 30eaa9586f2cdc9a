package dev.penumbra.stream;

import dev.penumbra.core.loop.CostModel;
import java.util.ArrayDeque;

/**
 * One partition's record of what its forecast and the reactive rule would each have cost, counting the queue a
 * late worker leaves: the stream's side of the baseline guard. The loop's guard prices the CPU missing within each
 * interval as if every rule's workers served the moment they were asked for; a stream's worker serves only after
 * its start-up, and what arrives meanwhile waits in a queue that outlasts the interval. So here the forecast's
 * rule holds each size it plans for the grace (as the adjuster does) and serves what it has held without a break
 * for the start-up (a worker given back and asked for again serves late); the reactive rule serves what
 * {@link ReactiveBaseline} says it holds (which models the start-up and its scale-down delay itself); the work a rule
 * cannot serve queues (a fluid queue per rule, drained by its spare capacity), and each interval costs
 * the idle capacity at the slack price plus the queued work at the shortfall price of the priority.
 *
 * <p>While the reactive rule has been the cheaper by more than the hysteresis (decayed sums, half-life
 * {@value #HALF_LIFE} intervals), {@link #reactiveCheaper()} is true: the forecast cannot see this partition's
 * bursts early enough to beat a rule that keeps its workers, and the partition gives back nothing that rule
 * would keep.
 *
 * <p>Sizes count in millicores, not in the whole workers the actuator runs for them: counted in whole workers, the
 * forecast got credit for the spare part of its last worker, and on the tuning Bitbrains VMs at light load the
 * guard then never found the reactive rule cheaper (p99 1.27x the reactive scaler's at load 0.25, against 1.00x
 * in millicores; benchmarks.md, "Stream: the queue guard"). Not thread-safe: the controller's tick calls it.
 */
final class QueueGuard {

  static final int HALF_LIFE = 30;
  static final double HYSTERESIS = 0.1;

  private final int lagIntervals;
  private final int graceIntervals;
  private final double slackPrice;
  private final double shortfallPrice;
  private final double decay = Math.pow(0.5, 1.0 / HALF_LIFE);
  private final ArrayDeque<Long> forecastSizes = new ArrayDeque<>();
  private final ArrayDeque<Long> planned = new ArrayDeque<>();
  private long reactiveServed = -1;
  private double forecastQueue;
  private double reactiveQueue;
  private double forecastCost;
  private double reactiveCost;
  private long scored;
  private boolean reactiveCheaper;

  /**
   * @param lagIntervals intervals a worker takes to serve after it is asked for (>= 0)
   * @param graceIntervals intervals the adjuster holds a size after the forecast fell below it (>= 0)
   * @param costs the loop's prices
   * @param shortfallFactor how many times the slack price a unit of queued work costs per second, for the priority
   */
  QueueGuard(int lagIntervals, int graceIntervals, CostModel costs, double shortfallFactor) {
    this.lagIntervals = Math.max(0, lagIntervals);
    this.graceIntervals = Math.max(0, graceIntervals);
    this.slackPrice = costs.cpuPerCoreSecond() / 1000.0;
    this.shortfallPrice = slackPrice * shortfallFactor;
  }

  /**
   * Scores the interval that just closed, in which the partition needed {@code needMillis} over {@code seconds},
   * with each rule serving what it held over it; then records what each rule holds from now: the forecast's plan
   * {@code forecastMillis} and the reactive rule's size {@code reactiveMillis} (served as it is).
   */
  void score(double needMillis, double seconds, long forecastMillis, long reactiveMillis) {
    if (!forecastSizes.isEmpty()) {
      double own = served(forecastSizes);
      forecastQueue = Math.max(0, forecastQueue + (needMillis - own) * seconds);
      reactiveQueue = Math.max(0, reactiveQueue + (needMillis - reactiveServed) * seconds);
      forecastCost = forecastCost * decay + cost(needMillis, own, forecastQueue, seconds);
      reactiveCost = reactiveCost * decay + cost(needMillis, reactiveServed, reactiveQueue, seconds);
      scored++;
      if (scored >= HALF_LIFE) {
        if (!reactiveCheaper && reactiveCost < forecastCost * (1 - HYSTERESIS)) {
          reactiveCheaper = true;
        } else if (reactiveCheaper && forecastCost < reactiveCost * (1 - HYSTERESIS)) {
          reactiveCheaper = false;
        }
      }
    }
    planned.addLast(forecastMillis);
    while (planned.size() > graceIntervals + 1) {
      planned.pollFirst();
    }
    long held = 0;
    for (long p : planned) {
      held = Math.max(held, p);
    }
    forecastSizes.addLast(held);
    while (forecastSizes.size() > lagIntervals + 1) {
      forecastSizes.pollFirst();
    }
    reactiveServed = reactiveMillis;
  }

  /** True while the reactive rule has been the cheaper on this partition by more than the hysteresis. */
  boolean reactiveCheaper() {
    return reactiveCheaper;
  }

  double forecastCost() {
    return forecastCost;
  }

  double reactiveCost() {
    return reactiveCost;
  }

  private double cost(double need, double served, double queue, double seconds) {
    return slackPrice * Math.max(0, served - need) * seconds + shortfallPrice * queue * seconds;
  }

  /** What a rule serves now: the least it held over the start-up (a worker asked for later is not serving yet). */
  private static double served(ArrayDeque<Long> sizes) {
    long least = Long.MAX_VALUE;
    for (long s : sizes) {
      least = Math.min(least, s);
    }
    return least;
  }
}
