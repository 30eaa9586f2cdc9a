package dev.penumbra.task;

import dev.penumbra.core.forecast.SortedWindow;
import java.time.Duration;
import java.util.Arrays;

/**
 * What tasks of one type have needed so far, by elapsed time: for each bucket of {@code bucket} length since a
 * task started, a running mean of the per-bucket peak of every {@link Signal} over the finished tasks, and
 * the mean absolute deviation from it. A task that ended before a bucket counts 0 there (it needed nothing).
 *
 * <p>The mean is the plain average of the first 5 tasks, then an exponential average with weight 0.2 for the
 * newest, so the profile follows a type whose behaviour drifts. It also keeps, per signal, the residuals of the
 * forecasts made for its tasks, the core's one uncertainty mechanism ({@link SortedWindow}): a forecast's band at
 * a quantile level is that quantile of the residuals. Thread-safe: {@link #record} (at task end)
 * publishes a new immutable table; readers (the sampler) never lock.
 */
public final class TaskProfile {

  /** Buckets beyond this share the last one (a task longer than {@code MAX_BUCKETS * bucket}). */
  public static final int MAX_BUCKETS = 256;
  static final double MIN_WEIGHT = 0.2;

  /** Residuals kept per signal (as the core forecasters keep theirs). */
  static final int RESIDUAL_WINDOW = 200;
  /** Residuals a signal needs before its quantiles bound a forecast (as in the core forecasters). */
  static final int MIN_RESIDUALS = 20;

  private final String type;
  private final long bucketMillis;
  /** Per signal: residuals (actual - point) of the forecasts of tasks of this type, guarded by this. */
  private final SortedWindow[] residuals = new SortedWindow[Signal.COUNT];
  private volatile Table table = new Table(0, 0, new double[0], new double[0]);

  /** Per-bucket means and deviations, signal-major within a bucket: index = bucket * COUNT + signal. */
  private record Table(int tasks, int buckets, double[] mean, double[] dev) {}

  /**
   * @param type the task type it describes (non-blank)
   * @param bucket the length of one elapsed-time bucket, 1 ms to 1 h
   */
  public TaskProfile(String type, Duration bucket) {
    if (type == null || type.isBlank()) {
      throw new IllegalArgumentException("type must be non-blank, was '" + type + "'");
    }
    if (bucket == null || bucket.toMillis() < 1 || bucket.compareTo(Duration.ofHours(1)) > 0) {
      throw new IllegalArgumentException("bucket must be in [1ms, 1h], was " + bucket);
    }
    this.type = type;
    this.bucketMillis = bucket.toMillis();
    for (int s = 0; s < Signal.COUNT; s++) {
      residuals[s] = new SortedWindow(RESIDUAL_WINDOW);
    }
  }

  /**
   * What a profile has learned, for saving across restarts: the per-bucket table and each signal's residuals,
   * oldest first ({@link #state()}, {@link #restore}).
   */
  public record State(String type, long bucketMillis, int tasks, int buckets, double[] mean, double[] dev,
      double[][] residuals) {}

  /** This profile's state. */
  public synchronized State state() {
    Table t = table;
    double[][] r = new double[Signal.COUNT][];
    for (int s = 0; s < Signal.COUNT; s++) {
      r[s] = residuals[s].values();
    }
    return new State(type, bucketMillis, t.tasks, t.buckets, t.mean.clone(), t.dev.clone(), r);
  }

  /**
   * A profile with the state an earlier process saved.
   *
   * @throws IllegalArgumentException naming what is inconsistent
   */
  public static TaskProfile restore(State s) {
    TaskProfile p = new TaskProfile(s.type(), Duration.ofMillis(s.bucketMillis()));
    int cells = s.buckets() * Signal.COUNT;
    if (s.tasks() < 0 || s.buckets() < 0 || s.buckets() > MAX_BUCKETS || s.mean() == null || s.dev() == null
        || s.mean().length != cells || s.dev().length != cells || s.residuals() == null
        || s.residuals().length != Signal.COUNT) {
      throw new IllegalArgumentException("saved profile of type '" + s.type() + "' is inconsistent");
    }
    p.table = new Table(s.tasks(), s.buckets(), s.mean().clone(), s.dev().clone());
    for (int sig = 0; sig < Signal.COUNT; sig++) {
      for (double v : s.residuals()[sig]) {
        p.residuals[sig].add(v);
      }
    }
    return p;
  }

  /** Records the residual (actual - point) of a forecast of {@code signal} made for a task of this type. */
  synchronized void residual(Signal signal, double residual) {
    residuals[signal.ordinal()].add(residual);
  }

  /** Records one residual per signal (ordinal order, from {@code offset}): one lock for a whole sample. */
  synchronized void residuals(double[] r, int offset) {
    for (int s = 0; s < Signal.COUNT; s++) {
      residuals[s].add(r[offset + s]);
    }
  }

  /**
   * Writes {@link #band} at {@code level} of every signal into {@code out} from {@code offset} (NaN where too few
   * residuals are known); one lock for a whole forecast.
   */
  synchronized void bands(double level, double[] out, int offset) {
    for (int s = 0; s < Signal.COUNT; s++) {
      SortedWindow w = residuals[s];
      out[offset + s] = w.size() < MIN_RESIDUALS ? Double.NaN : Math.max(0, w.quantile(level));
    }
  }

  /** Residuals of {@code signal} recorded so far (at most {@value #RESIDUAL_WINDOW}). */
  public synchronized int residuals(Signal signal) {
    return residuals[signal.ordinal()].size();
  }

  /**
   * The band above a point forecast of {@code signal} at quantile {@code level}: the empirical quantile of the
   * type's recent residuals (never negative), or NaN while fewer than {@value #MIN_RESIDUALS} are known.
   */
  public synchronized double band(Signal signal, double level) {
    SortedWindow w = residuals[signal.ordinal()];
    return w.size() < MIN_RESIDUALS ? Double.NaN : Math.max(0, w.quantile(level));
  }

  public String type() {
    return type;
  }

  public Duration bucket() {
    return Duration.ofMillis(bucketMillis);
  }

  /** How many finished tasks it has learned from. */
  public int tasks() {
    return table.tasks;
  }

  /** Buckets learned so far (0 before the first finished task). */
  int buckets() {
    return table.buckets;
  }

  /** The bucket an elapsed time falls in. */
  int bucketOf(long elapsedMillis) {
    long b = Math.max(0, elapsedMillis) / bucketMillis;
    return (int) Math.min(b, MAX_BUCKETS - 1);
  }

  /**
   * Folds one finished task in (the executor does this when a task succeeds).
   *
   * @param peaks the task's per-bucket peaks, finite and >= 0, at index
   *     {@code bucket * Signal.values().length + signal.ordinal()}; its length / {@code Signal.values().length} is
   *     the number of buckets the task reached
   */
  public synchronized void record(double[] peaks) {
    if (peaks == null || peaks.length % Signal.COUNT != 0) {
      throw new IllegalArgumentException("peaks length must be a multiple of " + Signal.COUNT + ", was "
          + (peaks == null ? "null" : peaks.length));
    }
    for (int i = 0; i < peaks.length; i++) {
      if (!(peaks[i] >= 0) || Double.isInfinite(peaks[i])) {
        throw new IllegalArgumentException("peaks[" + i + "] must be finite and >= 0, was " + peaks[i]);
      }
    }
    Table t = table;
    int taskBuckets = Math.min(peaks.length / Signal.COUNT, MAX_BUCKETS);
    int buckets = Math.max(t.buckets, taskBuckets);
    double[] mean = Arrays.copyOf(t.mean, buckets * Signal.COUNT);
    double[] dev = Arrays.copyOf(t.dev, buckets * Signal.COUNT);
    int n = t.tasks + 1;
    double w = Math.max(1.0 / n, MIN_WEIGHT);
    for (int i = 0; i < buckets * Signal.COUNT; i++) {
      double x = i < taskBuckets * Signal.COUNT ? peaks[i] : 0;
      if (n == 1) {
        mean[i] = x;
        dev[i] = 0;
      } else {
        double before = i < t.buckets * Signal.COUNT ? mean[i] : 0;
        dev[i] = (1 - w) * dev[i] + w * Math.abs(x - before);
        mean[i] = (1 - w) * before + w * x;
      }
    }
    table = new Table(n, buckets, mean, dev);
  }

  /** The expected value of {@code signal} at {@code elapsedMillis}; NaN before the first finished task. */
  public double expected(Signal signal, long elapsedMillis) {
    Table t = table;
    if (t.tasks == 0) {
      return Double.NaN;
    }
    int b = bucketOf(elapsedMillis);
    return b < t.buckets ? t.mean[b * Signal.COUNT + signal.ordinal()] : 0;
  }

  /** The mean absolute deviation of {@code signal} at {@code elapsedMillis}; NaN before the first finished task. */
  public double deviation(Signal signal, long elapsedMillis) {
    Table t = table;
    if (t.tasks == 0) {
      return Double.NaN;
    }
    int b = bucketOf(elapsedMillis);
    return b < t.buckets ? t.dev[b * Signal.COUNT + signal.ordinal()] : 0;
  }

  /**
   * Writes, for every signal, the highest expected value (into {@code out} from {@code peakOffset}) and the
   * highest deviation (from {@code spreadOffset}) over the buckets of {@code [fromMillis, toMillis]}: what must
   * be ready within the window.
   * Returns false (writing nothing) before the first finished task.
   */
  boolean window(long fromMillis, long toMillis, double[] out, int peakOffset, int spreadOffset) {
    Table t = table;
    if (t.tasks == 0) {
      return false;
    }
    Arrays.fill(out, peakOffset, peakOffset + Signal.COUNT, 0);
    Arrays.fill(out, spreadOffset, spreadOffset + Signal.COUNT, 0);
    int first = bucketOf(fromMillis);
    int last = Math.min(bucketOf(toMillis), t.buckets - 1);
    for (int b = first; b <= last; b++) {
      int base = b * Signal.COUNT;
      for (int s = 0; s < Signal.COUNT; s++) {
        out[peakOffset + s] = Math.max(out[peakOffset + s], t.mean[base + s]);
        out[spreadOffset + s] = Math.max(out[spreadOffset + s], t.dev[base + s]);
      }
    }
    return true;
  }
}
