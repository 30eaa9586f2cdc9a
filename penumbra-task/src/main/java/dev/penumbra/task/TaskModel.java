package dev.penumbra.task;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Demand;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.feedback.ErrorTracker;
import java.time.Duration;
import java.util.Arrays;
import java.util.TreeMap;

/**
 * The behavioural model of one running task: for every {@link Signal}, a forecast of the most it will need
 * within the next {@code horizon}, blended from two sources.
 *
 * <ul>
 *   <li><b>Type</b>: the {@link TaskProfile} of its type, read at the task's elapsed time: the highest expected
 *       value over the window {@code [elapsed, elapsed + horizon]}, so a phase step that tasks of the type
 *       take is foreseen before this task reaches it.
 *   <li><b>Real time</b>: a time-aware Holt model of the task's own samples (level and slope per millisecond;
 *       the samples come at irregular intervals, so the slope is per ms rather than per step):
 *       {@code p = L + S*dt}, {@code L' = a*x + (1-a)*p}, {@code S' = b*(L'-L)/dt + (1-b)*S} with a = 0.5,
 *       b = 0.3; its window forecast is {@code max(L, L + S*horizon)}.
 * </ul>
 *
 * <p>Each source keeps a fast exponential average (weight 0.5) of its absolute error against what is observed:
 * the type's error against the profile at the observed instant, real time's against its own one-sample-ahead
 * prediction. Only the type's error beyond its tolerance counts against it: {@code x = max(0, eT - tol)} with
 * {@code tol = 2 * profile deviation + 0.05 * profile mean} at the observed instant, and the real-time weight
 * is {@code x^2 / (x^2 + eR^2)} (0 when {@code x = 0}). A task that follows its type keeps the type's foresight
 * of coming phases (which real time, extrapolating, cannot see); one that deviates moves the weight to its
 * own behaviour within two or three samples. Without a profile (no finished task of the type yet) the weight
 * is 1; before real time has erred once it is 0.
 *
 * <p>Uncertainty is the core's one mechanism, residual quantiles: every forecast is scored — the point made at
 * {@code t} is compared with the first sample at or after {@code t + horizon} — and the residual (actual - point)
 * joins the type's window in its {@link TaskProfile}; the bound at quantile {@code q} is the point plus the
 * q-quantile of those residuals ({@link TaskProfile#band}). While a type has fewer than
 * {@value TaskProfile#MIN_RESIDUALS} residuals of a signal, the band is twice the blended mean absolute error
 * {@code w*eR + (1-w)*max(eT, profile deviation)} and the {@link Demand} is flagged low-confidence. The
 * priority picks the level of {@link #upper}: critical 0.99, standard 0.9, batch 0.5 (the point). Forecasts are
 * also recorded in the {@link ErrorTracker} under {@code task:<type>/<signal>}.
 *
 * <p>Not thread-safe: one model per task, fed by one thread (the sampler). {@link #observe} and
 * {@link #forecast} do not allocate.
 */
public final class TaskModel {

  static final double ALPHA = 0.5;
  static final double BETA = 0.3;
  static final double ERROR_WEIGHT = 0.5;
  /** Share of the expected value the type may miss by (beside twice its deviation) before it counts as wrong. */
  static final double TOLERANCE = 0.05;
  /** Band while a type has too few residuals, as a multiple of the blended mean absolute error. */
  static final double COLD_BAND = 2;
  /** The quantile levels a {@link #demand} carries. */
  static final double[] LEVELS = {0.9, 0.99};

  private final TaskProfile profile;
  private final long horizonMillis;
  private final double level;
  private final ErrorTracker tracker;
  private final String[] names;

  // All per-signal state in one array (one block of Signal.COUNT per field): a full sample touches few cache lines.
  private static final int LEVEL = 0 * Signal.COUNT;
  private static final int SLOPE = 1 * Signal.COUNT;
  private static final int LAST = 2 * Signal.COUNT;
  private static final int REAL_ERROR = 3 * Signal.COUNT;
  private static final int TYPE_ERROR = 4 * Signal.COUNT;
  private static final int TOLERANCE_AT = 5 * Signal.COUNT;
  private static final int WEIGHT = 6 * Signal.COUNT;
  private static final int POINT = 7 * Signal.COUNT;
  private static final int UPPER = 8 * Signal.COUNT;
  private static final int PEAK = 9 * Signal.COUNT;
  private static final int SPREAD = 10 * Signal.COUNT;
  private static final int PENDING_POINT = 11 * Signal.COUNT;
  private static final int PENDING_UPPER = 12 * Signal.COUNT;
  /** The blended mean absolute error of the last forecast, the cold-start band's base. */
  private static final int ERROR = 13 * Signal.COUNT;
  /** Residual quantile bands at the model's level (NaN: too few residuals); scratch of residuals to record. */
  private static final int BAND = 14 * Signal.COUNT;
  private static final int RESIDUAL = 15 * Signal.COUNT;
  private final double[] st = new double[16 * Signal.COUNT];
  private boolean cold = true;
  private long pendingAt = Long.MIN_VALUE;
  private long lastTime = Long.MIN_VALUE;
  private long lastElapsed;
  private int observations;
  private boolean realErred;

  /** A model that is not scored anywhere. */
  public TaskModel(TaskProfile profile, Duration horizon, Priority priority) {
    this(profile, horizon, priority, null);
  }

  /**
   * @param profile the profile of the task's type
   * @param horizon how far ahead to forecast (1 ms .. 1 h): at least the time warming takes
   * @param priority picks the quantile level of {@link #upper}
   * @param tracker where forecasts are scored, or null
   */
  public TaskModel(TaskProfile profile, Duration horizon, Priority priority, ErrorTracker tracker) {
    if (profile == null) {
      throw new IllegalArgumentException("profile is missing");
    }
    if (horizon == null || horizon.toMillis() < 1 || horizon.compareTo(Duration.ofHours(1)) > 0) {
      throw new IllegalArgumentException("horizon must be in [1ms, 1h], was " + horizon);
    }
    if (priority == null) {
      throw new IllegalArgumentException("priority is missing");
    }
    this.profile = profile;
    this.horizonMillis = horizon.toMillis();
    this.level = priority.quantile();
    this.tracker = tracker;
    this.names = new String[Signal.COUNT];
    for (Signal s : Signal.ALL) {
      names[s.ordinal()] = "task:" + profile.type() + "/" + s.label();
    }
    Arrays.fill(st, WEIGHT, WEIGHT + Signal.COUNT, 1);
  }

  /**
   * Takes one sample.
   *
   * @param timeMillis when it was taken; not before the previous sample
   * @param elapsedMillis how long the task had been running then (>= 0)
   * @param values one value per {@link Signal} in ordinal order, finite and >= 0
   */
  public void observe(long timeMillis, long elapsedMillis, double[] values) {
    if (values == null || values.length != Signal.COUNT) {
      throw new IllegalArgumentException("values must hold " + Signal.COUNT + " signals, was "
          + (values == null ? "null" : values.length));
    }
    for (int s = 0; s < Signal.COUNT; s++) {
      double x = values[s];
      if (!(x >= 0) || Double.isInfinite(x)) {
        throw new IllegalArgumentException(Signal.ALL[s].label() + " must be finite and >= 0, was " + x);
      }
    }
    if (timeMillis < lastTime) {
      throw new IllegalArgumentException("timeMillis must not go back, was " + timeMillis + " after " + lastTime);
    }
    Checks.atLeast("elapsedMillis", elapsedMillis, 0);
    boolean score = pendingAt != Long.MIN_VALUE && timeMillis >= pendingAt;
    if (score) {
      pendingAt = Long.MIN_VALUE;
    }
    boolean typed = profile.tasks() > 0;
    long dt = observations == 0 ? 0 : timeMillis - lastTime;
    for (int s = 0; s < Signal.COUNT; s++) {
      double x = values[s];
      if (score) {
        st[RESIDUAL + s] = x - st[PENDING_POINT + s];
        if (tracker != null) {
          tracker.record(names[s], st[PENDING_POINT + s], st[PENDING_UPPER + s], x);
        }
      }
      if (observations == 0) {
        st[LEVEL + s] = x;
        st[SLOPE + s] = 0;
      } else {
        double predicted = Math.max(0, st[LEVEL + s] + st[SLOPE + s] * dt);
        double e = Math.abs(x - predicted);
        st[REAL_ERROR + s] = realErred ? ERROR_WEIGHT * e + (1 - ERROR_WEIGHT) * st[REAL_ERROR + s] : e;
        double l = ALPHA * x + (1 - ALPHA) * predicted;
        if (dt > 0) {
          st[SLOPE + s] = BETA * (l - st[LEVEL + s]) / dt + (1 - BETA) * st[SLOPE + s];
        }
        st[LEVEL + s] = l;
      }
      if (typed) {
        double expected = profile.expected(Signal.ALL[s], elapsedMillis);
        double e = Math.abs(x - expected);
        st[TYPE_ERROR + s] = observations == 0 ? e : ERROR_WEIGHT * e + (1 - ERROR_WEIGHT) * st[TYPE_ERROR + s];
        st[TOLERANCE_AT + s] = 2 * profile.deviation(Signal.ALL[s], elapsedMillis) + TOLERANCE * expected;
      }
      st[LAST + s] = x;
    }
    if (score) {
      profile.residuals(st, RESIDUAL);
    }
    if (observations > 0) {
      realErred = true;
    }
    for (int s = 0; s < Signal.COUNT; s++) {
      if (!typed) {
        st[WEIGHT + s] = 1;
      } else if (!realErred) {
        st[WEIGHT + s] = 0;
      } else {
        // Only the type's error beyond its usual spread counts against it: within it, the profile's foresight
        // of coming phases is worth more than real time's extrapolation, which cannot see a step coming.
        double excess = Math.max(0, st[TYPE_ERROR + s] - st[TOLERANCE_AT + s]);
        double t2 = excess * excess;
        double r2 = st[REAL_ERROR + s] * st[REAL_ERROR + s];
        st[WEIGHT + s] = t2 == 0 ? 0 : t2 / (t2 + r2);
      }
    }
    lastTime = timeMillis;
    lastElapsed = elapsedMillis;
    observations++;
  }

  /** Computes the forecast for the window {@code [now, now + horizon]} from the samples so far. */
  public void forecast() {
    forecast(horizonMillis);
  }

  /**
   * Computes the forecast for the window {@code [now, now + max(horizon, leadMillis)]}: the executor reserves at
   * least as far ahead as a grant on request would take to arrive (its measured acquisition lag), which on a
   * contended node is longer than the horizon. Scoring stays at the horizon.
   */
  void forecast(long leadMillis) {
    long window = Math.max(horizonMillis, leadMillis);
    boolean typed = profile.window(lastElapsed, lastElapsed + window, st, PEAK, SPREAD);
    profile.bands(level > 0.5 ? level : 0.9, st, BAND);
    cold = false;
    for (int s = 0; s < Signal.COUNT; s++) {
      cold |= Double.isNaN(st[BAND + s]);
    }
    for (int s = 0; s < Signal.COUNT; s++) {
      double real = observations == 0 ? 0 : Math.max(0, Math.max(st[LEVEL + s], st[LEVEL + s] + st[SLOPE + s] * horizonMillis));
      // Before its first sample a task is its type: the type's forecast is all there is.
      double w = typed ? (observations == 0 ? 0 : st[WEIGHT + s]) : 1;
      double p = typed ? w * real + (1 - w) * st[PEAK + s] : real;
      double err = w * st[REAL_ERROR + s] + (typed ? (1 - w) * Math.max(st[TYPE_ERROR + s], st[SPREAD + s]) : 0);
      st[POINT + s] = p;
      st[ERROR + s] = err;
      st[UPPER + s] = p + (level <= 0.5 ? 0 : bandOf(st[BAND + s], s));
    }
    if (pendingAt == Long.MIN_VALUE && observations > 0) {
      pendingAt = lastTime + horizonMillis;
      System.arraycopy(st, POINT, st, PENDING_POINT, Signal.COUNT);
      System.arraycopy(st, UPPER, st, PENDING_UPPER, Signal.COUNT);
    }
  }

  /** The band above the point of signal {@code s} at quantile {@code q}: residual quantile, or the cold band. */
  private double band(int s, double q) {
    if (q <= 0.5) {
      return 0;
    }
    if (q == level) {
      return bandOf(st[BAND + s], s);
    }
    return bandOf(profile.band(Signal.ALL[s], q), s);
  }

  private double bandOf(double residualQuantile, int s) {
    return Double.isNaN(residualQuantile) ? COLD_BAND * st[ERROR + s] : residualQuantile;
  }

  /** True while some signal's band at the last forecast was the cold-start one (too few residuals of the type). */
  boolean isCold() {
    return cold;
  }

  /** The bound of {@code s} at quantile {@code level} from the last {@link #forecast()} (the point up to 0.5). */
  double bound(Signal s, double level) {
    return st[POINT + s.ordinal()] + band(s.ordinal(), level);
  }

  /** The point forecast of {@code s} from the last {@link #forecast()}. */
  public double point(Signal s) {
    return st[POINT + s.ordinal()];
  }

  /** The bound of {@code s} at the priority's quantile level from the last {@link #forecast()}. */
  public double upper(Signal s) {
    return st[UPPER + s.ordinal()];
  }

  /** The weight of the task's own real-time behaviour (vs its type's profile) for {@code s}, in [0, 1]. */
  public double realTimeWeight(Signal s) {
    return st[WEIGHT + s.ordinal()];
  }

  /** The last observed value of {@code s}. */
  public double last(Signal s) {
    return st[LAST + s.ordinal()];
  }

  public int observations() {
    return observations;
  }

  public TaskProfile profile() {
    return profile;
  }

  public Duration horizon() {
    return Duration.ofMillis(horizonMillis);
  }

  /**
   * The last forecast as a {@link Demand} — the one shape of a prediction with uncertainty: the point and the
   * bounds at {@link #LEVELS}, each the point plus that quantile of the type's residuals. CPU is the larger of
   * the measured CPU and the worker threads (1000 millicores each); memory and IO as forecast.
   */
  public Demand demand() {
    TreeMap<Double, Resources> q = new TreeMap<>();
    double[] at = new double[Signal.COUNT];
    for (double l : LEVELS) {
      for (int s = 0; s < Signal.COUNT; s++) {
        at[s] = st[POINT + s] + band(s, l);
      }
      q.put(l, resources(at, 0));
    }
    return new Demand(resources(st, POINT), q, "task-model", isCold());
  }

  private static Resources resources(double[] v, int at) {
    long cpu = (long) Math.ceil(Math.max(v[at + Signal.CPU.ordinal()], 1000 * v[at + Signal.THREADS.ordinal()]));
    return new Resources(cpu, (long) Math.ceil(v[at + Signal.MEMORY.ordinal()]),
        (long) Math.ceil(v[at + Signal.IO.ordinal()]), 0);
  }
}
