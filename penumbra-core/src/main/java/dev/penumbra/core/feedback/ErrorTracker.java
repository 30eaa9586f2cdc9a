package dev.penumbra.core.feedback;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Quantiles;
import dev.penumbra.core.Resources;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Scores predictions against what happened and keeps per-model error statistics over a sliding window of the
 * most recent predictions. Whatever predicts records here; the ensemble and the allocator read it. Thread-safe.
 */
public final class ErrorTracker {

  /** Values this close to zero are treated as this, so that q-errors of near-idle series stay finite. */
  static final double FLOOR = 1e-9;

  private final int window;
  private final Map<String, Window> models = new ConcurrentHashMap<>();

  /** A tracker keeping the last {@code window} (>= 1) predictions of each model. */
  public ErrorTracker(int window) {
    Checks.atLeast("window", window, 1);
    this.window = window;
  }

  public ErrorTracker() {
    this(1000);
  }

  /**
   * Scores one prediction.
   *
   * @param model which model made it
   * @param point the predicted value
   * @param upper the upper bound that was acted on (e.g. reserved); equal to point when there was none
   * @param actual what happened
   * @throws IllegalArgumentException naming the value when any is NaN, infinite or negative
   */
  public void record(String model, double point, double upper, double actual) {
    Checks.atLeast("point", point, 0.0);
    Checks.atLeast("upper", upper, 0.0);
    Checks.atLeast("actual", actual, 0.0);
    models.computeIfAbsent(model, m -> new Window(window)).add(point, upper, actual);
  }

  /** The statistics of one model (empty when nothing was scored for it). */
  public ErrorStats stats(String model) {
    Window w = models.get(model);
    return w == null ? ErrorStats.empty(model) : w.stats(model);
  }

  /** The statistics of every model scored so far, sorted by name. */
  public List<ErrorStats> all() {
    return models.keySet().stream().sorted().map(this::stats).toList();
  }

  /**
   * One model's scored predictions, oldest first, and how many it scored in all: what {@link #export()} gives and
   * {@link #restore} takes (persistence across restarts).
   */
  public record Scores(String model, long total, double[] point, double[] upper, double[] actual) {
    public Scores {
      if (model == null || point == null || upper == null || actual == null || point.length != upper.length
          || point.length != actual.length || total < point.length) {
        throw new IllegalArgumentException("scores of '" + model + "' are inconsistent: arrays of equal length and"
            + " total >= their length expected");
      }
    }
  }

  /** Every model's window, for saving. */
  public List<Scores> export() {
    return models.keySet().stream().sorted().map(m -> models.get(m).export(m)).toList();
  }

  /**
   * Puts back what {@link #export()} gave in an earlier run (models scored since are kept; a model in both gets the
   * saved window with the new scores after it). Values are checked as {@link #record} checks them.
   */
  public void restore(List<Scores> saved) {
    for (Scores s : saved) {
      for (int i = 0; i < s.point().length; i++) {
        Checks.atLeast("point", s.point()[i], 0.0);
        Checks.atLeast("upper", s.upper()[i], 0.0);
        Checks.atLeast("actual", s.actual()[i], 0.0);
      }
      Window w = new Window(window);
      for (int i = 0; i < s.point().length; i++) {
        w.add(s.point()[i], s.upper()[i], s.actual()[i]);
      }
      w.total = s.total();
      Window now = models.get(s.model());
      if (now != null) {
        Scores since = now.export(s.model());
        for (int i = 0; i < since.point().length; i++) {
          w.add(since.point()[i], since.upper()[i], since.actual()[i]);
        }
        w.total = s.total() + since.total();
      }
      models.put(s.model(), w);
    }
  }

  /**
   * The name under which a model's error in one dimension is tracked: {@code model + "/" + dimension}, e.g.
   * "ensemble/cpu". Predictors, the adjuster and the allocator all use it, so they read each other's scores.
   */
  public static String name(String model, Resources.Dimension dimension) {
    return model + "/" + dimension.label();
  }

  /** The q-error of one prediction: max(p/a, a/p), with both floored away from zero. */
  public static double qError(double predicted, double actual) {
    double p = Math.max(predicted, FLOOR);
    double a = Math.max(actual, FLOOR);
    return Math.max(p / a, a / p);
  }

  private static final class Window {
    private final double[] point;
    private final double[] upper;
    private final double[] actual;
    private int next;
    private int size;
    private long total;

    Window(int capacity) {
      point = new double[capacity];
      upper = new double[capacity];
      actual = new double[capacity];
    }

    synchronized void add(double p, double u, double a) {
      point[next] = p;
      upper[next] = u;
      actual[next] = a;
      next = (next + 1) % point.length;
      size = Math.min(size + 1, point.length);
      total++;
    }

    synchronized Scores export(String model) {
      double[] p = new double[size];
      double[] u = new double[size];
      double[] a = new double[size];
      int start = size == point.length ? next : 0;
      for (int i = 0; i < size; i++) {
        int j = (start + i) % point.length;
        p[i] = point[j];
        u[i] = upper[j];
        a[i] = actual[j];
      }
      return new Scores(model, total, p, u, a);
    }

    synchronized ErrorStats stats(String model) {
      if (size == 0) {
        return ErrorStats.empty(model);
      }
      double apeSum = 0;
      int apeCount = 0;
      int under = 0;
      int exceed = 0;
      double signed = 0;
      double actualSum = 0;
      double[] q = new double[size];
      for (int i = 0; i < size; i++) {
        double p = point[i];
        double a = actual[i];
        if (a > 0) {
          apeSum += Math.abs(p - a) / a;
          apeCount++;
        }
        if (p < a) {
          under++;
        }
        if (upper[i] < a) {
          exceed++;
        }
        signed += p - a;
        actualSum += a;
        q[i] = qError(p, a);
      }
      Arrays.sort(q);
      return new ErrorStats(
          model,
          size,
          total,
          apeCount == 0 ? Double.NaN : apeSum / apeCount,
          (double) under / size,
          (double) exceed / size,
          actualSum == 0 ? (signed == 0 ? 0 : Double.POSITIVE_INFINITY) : signed / actualSum,
          Quantiles.ofSorted(q, 0.5),
          Quantiles.ofSorted(q, 0.9));
    }
  }
}
