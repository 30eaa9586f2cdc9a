package dev.penumbra.stream;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.forecast.Ensemble;
import dev.penumbra.core.forecast.Forecast;
import dev.penumbra.core.forecast.Forecasters;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Forecasts each partition's arrival rate with the core ensemble (last value, EWMA, Holt, seasonal
 * Holt-Winters, AR, decaying histogram, weighted by their recent errors) and turns it into a plan: workers,
 * CPU and memory per partition at each horizon, and the workers to run now.
 *
 * <p>Rules (a record costs {@code c} CPU seconds, measured by the shadow; {@code u} is the target utilisation;
 * {@code q} the priority's quantile):
 * <ul>
 *   <li>workers at a horizon = {@code ceil(upper_q(rate) * c / u)}, within [minWorkers, maxWorkers];
 *   <li>workers now = {@code ceil((max over k in {1, L/2, L} of upper_q(rate at k steps) + backlog / lead) * c / u)},
 *       {@code L} = lead in steps: capacity started now is ready when the forecast window begins;
 *   <li>CPU = {@code ceil(upper * c * 1000 / u)} millicores, memory = workers * workerMemoryBytes.
 * </ul>
 *
 * <p>Cold start: until a partition has {@code minHistory} observations it borrows the forecast of the partition
 * with history whose mean rate is closest to its own (or the mean of all, when it has none), and until the
 * shadow has measured one of its records, the mean cost of the other partitions (or the default).
 *
 * <p>Feedback: each observation scores the forecasts made for it, per horizon, in {@link #errors()} under
 * {@code stream/p<n>@<steps>} (rate) and {@code stream/p<n>/workers} (planned vs needed workers); the
 * ensemble re-weights its members by their errors, so a member that keeps losing loses its weight.
 *
 * <p>Not thread-safe: one controller drives it.
 */
public final class StreamPlanner {

  /**
   * Observations kept per partition for {@link #history}: enough for the ensemble's seasonal member to find a
   * season of up to a third of it again after a restart (the demo's day is 120 intervals).
   */
  public static final int HISTORY = 512;

  /**
   * One observation as {@link #observe} took it.
   *
   * @param cost CPU seconds per record measured in the interval, NaN when none was measured
   */
  public record Observation(long timeMillis, double rate, double cost) {}

  private final PlannerConfig config;
  private final TreeMap<Integer, State> partitions = new TreeMap<>();
  private final ErrorTracker errors = new ErrorTracker();
  private final int leadSteps;

  public StreamPlanner(PlannerConfig config) {
    if (config == null) {
      throw new IllegalArgumentException("planner config is missing");
    }
    this.config = config;
    this.leadSteps = config.steps(config.lead());
  }

  public PlannerConfig config() {
    return config;
  }

  /** Starts tracking a partition; adding a known one does nothing. */
  public void addPartition(int partition) {
    Checks.atLeast("partition", partition, 0);
    partitions.computeIfAbsent(partition, p -> new State());
  }

  public List<Integer> partitionIds() {
    return List.copyOf(partitions.keySet());
  }

  /**
   * Records one interval of a partition.
   *
   * @param timeMillis the end of the interval, not before the previous one
   * @param arrivalRate records per second that arrived in the interval (>= 0)
   * @param costSecondsPerRecord CPU seconds per record the shadow measured in it, or NaN when none was measured
   * @throws IllegalArgumentException for an unknown partition or a negative / non-finite rate
   */
  public void observe(int partition, long timeMillis, double arrivalRate, double costSecondsPerRecord) {
    State s = state(partition);
    if (!(arrivalRate >= 0 && Double.isFinite(arrivalRate))) {
      throw new IllegalArgumentException("arrivalRate must be finite and >= 0, was " + arrivalRate);
    }
    if (!Double.isNaN(costSecondsPerRecord) && !(costSecondsPerRecord >= 0 && Double.isFinite(costSecondsPerRecord))) {
      throw new IllegalArgumentException("costSecondsPerRecord must be >= 0 or NaN, was " + costSecondsPerRecord);
    }
    s.forecaster.observe(timeMillis, arrivalRate);
    s.recent.addLast(new Observation(timeMillis, arrivalRate, costSecondsPerRecord));
    if (s.recent.size() > HISTORY) {
      s.recent.removeFirst();
    }
    s.count++;
    s.rateSum += arrivalRate;
    s.lastTime = timeMillis;
    if (!Double.isNaN(costSecondsPerRecord) && costSecondsPerRecord > 0) {
      s.cost = Double.isNaN(s.cost) ? costSecondsPerRecord : 0.8 * s.cost + 0.2 * costSecondsPerRecord;
    }
    // Score what was predicted for this step.
    Pending[] due = s.pending.remove(s.count);
    if (due != null) {
      double cost = cost(s);
      int needed = workersFor(arrivalRate, cost);
      for (Pending p : due) {
        errors.record("stream/p" + partition + "@" + p.steps, p.point, p.upper, arrivalRate);
        if (p.steps == leadSteps) {
          errors.record("stream/p" + partition + "/workers", p.workers, p.workers, needed);
        }
      }
    }
  }

  /** The partition's plan now, given its current backlog (records). */
  public PartitionPlan plan(int partition, long backlog) {
    State s = state(partition);
    Checks.atLeast("backlog", backlog, 0);
    double cost = cost(s);
    double level = config.priority().quantile();
    boolean borrowed = s.count < config.minHistory();
    State source = borrowed ? donor(s) : s;
    String model = source == null ? "none" : (borrowed ? "borrowed:" : "") + source.forecaster.name();
    boolean low = borrowed;

    List<HorizonPlan> horizons = new ArrayList<>();
    for (Duration h : config.horizons()) {
      int k = config.steps(h);
      double[] f = forecast(s, source, k, level);
      low |= f[2] > 0;
      int w = workersFor(f[1], cost);
      long cpu = (long) Math.ceil(f[1] * cost * 1000 / config.targetUtilisation() - 1e-6);
      horizons.add(new HorizonPlan(h, f[0], f[1], w, Resources.of(cpu, w * config.workerMemoryBytes())));
    }
    double peak = 0;
    double peakPoint = 0;
    for (int k : new int[] {1, Math.max(1, (leadSteps + 1) / 2), leadSteps}) {
      double[] f = forecast(s, source, k, level);
      peak = Math.max(peak, f[1]);
      peakPoint = Math.max(peakPoint, f[0]);
      low |= f[2] > 0;
      if (!borrowed && s.count > 0) {
        remember(s, k, f, workersFor(f[1], cost));
      }
    }
    double leadSeconds = config.lead().toNanos() / 1e9;
    double drain = backlog / leadSeconds;
    int now = workersFor(peak + drain, cost);
    Resources point = resourcesFor(peakPoint + drain, cost);
    Resources upper = resourcesFor(peak + drain, cost);
    Demand demand = Demand.of(point, level, upper, model, low);
    return new PartitionPlan(partition, s.lastTime, now, horizons, cost, model, low, demand);
  }

  /**
   * CPU in millicores, at the target utilisation, for the partition's highest rate within the lead at quantile
   * {@code level} (instead of the priority's) plus draining {@code backlog} within the lead: the plan's upper bound
   * at another level.
   */
  public long upperMillis(int partition, long backlog, double level) {
    if (!(level > 0 && level < 1)) {
      throw new IllegalArgumentException("level must be in (0, 1), was " + level);
    }
    Checks.atLeast("backlog", backlog, 0);
    State s = state(partition);
    State source = s.count < config.minHistory() ? donor(s) : s;
    double cost = cost(s);
    double peak = 0;
    for (int k : new int[] {1, Math.max(1, (leadSteps + 1) / 2), leadSteps}) {
      peak = Math.max(peak, forecast(s, source, k, level)[1]);
    }
    return resourcesFor(peak + backlog / (config.lead().toNanos() / 1e9), cost).cpuMillis();
  }

  /** CPU for {@code rate} at the target utilisation, memory for the workers it runs. */
  private Resources resourcesFor(double rate, double cost) {
    long cpu = (long) Math.ceil(rate * cost * 1000 / config.targetUtilisation() - 1e-6);
    return Resources.of(Math.max(0, cpu), workersFor(rate, cost) * config.workerMemoryBytes());
  }

  /** Plans every partition; {@code backlogs} gives each one's backlog (missing means 0). */
  public Map<Integer, PartitionPlan> plan(Map<Integer, Long> backlogs) {
    Map<Integer, PartitionPlan> plans = new TreeMap<>();
    for (int p : partitions.keySet()) {
      plans.put(p, plan(p, backlogs.getOrDefault(p, 0L)));
    }
    return plans;
  }

  /** The partition's last observations (at most {@link #HISTORY}), oldest first: what a restart re-feeds. */
  public List<Observation> history(int partition) {
    return List.copyOf(state(partition).recent);
  }

  /**
   * Rebuilds the partition's model from {@code earlier} observations (an earlier process's {@link #history}) followed
   * by the ones it has seen since it was added, so a restarted stream forecasts from its past at once instead of
   * borrowing or starting cold. Earlier observations not before the partition's own first one are dropped; forecasts
   * still waiting to be scored are forgotten.
   *
   * @throws IllegalArgumentException for an unknown partition or an observation {@link #observe} would refuse
   */
  public void restoreHistory(int partition, List<Observation> earlier) {
    State old = state(partition);
    List<Observation> own = List.copyOf(old.recent);
    long firstOwn = own.isEmpty() ? Long.MAX_VALUE : own.get(0).timeMillis();
    State fresh = new State();
    partitions.put(partition, fresh);
    try {
      for (Observation o : earlier) {
        if (o.timeMillis() < firstOwn) {
          observe(partition, o.timeMillis(), o.rate(), o.cost());
        }
      }
      for (Observation o : own) {
        observe(partition, o.timeMillis(), o.rate(), o.cost());
      }
    } catch (RuntimeException e) {
      partitions.put(partition, old);
      throw e;
    }
  }

  /** Every prediction's score, per partition and horizon. */
  public ErrorTracker errors() {
    return errors;
  }

  /** The ensemble's current member weights for the partition. */
  public Map<String, Double> weights(int partition) {
    return state(partition).forecaster.weights();
  }

  /** The cost per record the planner assumes for the partition (measured, borrowed or default). */
  public double costSecondsPerRecord(int partition) {
    return cost(state(partition));
  }

  int workersFor(double rate, double cost) {
    double w = Math.ceil(rate * cost / config.targetUtilisation() - 1e-9);
    return (int) Math.max(config.minWorkers(), Math.min(config.maxWorkers(), w));
  }

  private double[] forecast(State s, State source, int k, double level) {
    if (source == null) {
      // Nobody has history: the partition's own mean so far, or nothing.
      double mean = s.count == 0 ? 0 : s.rateSum / s.count;
      return new double[] {mean, mean, 1};
    }
    Forecast f = source.forecaster.forecast(k, level);
    double point = f.point();
    double upper = f.upper();
    if (source != s && s.count > 0 && source.count > 0) {
      // Borrowed: the donor's shape at this partition's own level.
      double ratio = (s.rateSum / s.count) / Math.max(1e-9, source.rateSum / source.count);
      point *= ratio;
      upper *= ratio;
    }
    return new double[] {point, upper, f.lowConfidence() ? 1 : 0};
  }

  private void remember(State s, int k, double[] f, int workers) {
    long target = s.count + k;
    Pending p = new Pending(k, f[0], f[1], workers);
    Pending[] old = s.pending.get(target);
    if (old == null) {
      s.pending.put(target, new Pending[] {p});
    } else {
      for (Pending o : old) {
        if (o.steps == k) {
          return;
        }
      }
      Pending[] grown = java.util.Arrays.copyOf(old, old.length + 1);
      grown[old.length] = p;
      s.pending.put(target, grown);
    }
  }

  private State donor(State s) {
    State best = null;
    double mine = s.count == 0 ? Double.NaN : s.rateSum / s.count;
    double bestGap = Double.POSITIVE_INFINITY;
    for (State o : partitions.values()) {
      if (o == s || o.count < config.minHistory()) {
        continue;
      }
      double gap = Double.isNaN(mine) ? 0 : Math.abs(o.rateSum / o.count - mine);
      if (best == null || gap < bestGap) {
        best = o;
        bestGap = gap;
      }
    }
    return best;
  }

  private double cost(State s) {
    if (!Double.isNaN(s.cost)) {
      return s.cost;
    }
    double sum = 0;
    int n = 0;
    for (State o : partitions.values()) {
      if (!Double.isNaN(o.cost)) {
        sum += o.cost;
        n++;
      }
    }
    return n == 0 ? config.defaultCostSeconds() : sum / n;
  }

  private State state(int partition) {
    State s = partitions.get(partition);
    if (s == null) {
      throw new IllegalArgumentException("unknown partition " + partition + " (known: " + partitions.keySet() + ")");
    }
    return s;
  }

  private record Pending(int steps, double point, double upper, int workers) {}

  private static final class State {
    // The ensemble with its residual interval, not Forecasters.production's volatility band: on the tuning traces
    // the band sized too low before bursts (p99 524 vs 326 ms at grace 2, 326 vs 273 ms at grace 10; stream.md).
    final Ensemble forecaster = Forecasters.ensemble();
    final Map<Long, Pending[]> pending = new HashMap<>();
    final java.util.ArrayDeque<Observation> recent = new java.util.ArrayDeque<>();
    long count;
    double rateSum;
    long lastTime;
    double cost = Double.NaN;
  }
}
