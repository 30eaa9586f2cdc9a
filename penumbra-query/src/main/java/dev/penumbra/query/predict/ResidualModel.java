package dev.penumbra.query.predict;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.TreeSet;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;

/**
 * Corrects the per-operator scaled estimate: a ridge regression of log(actual / estimate) on the shadow's
 * features (operator mix, growth, sample rows, the estimate's size), one per metric, and the uncertainty of the
 * corrected prediction from its residuals on query shapes held out of its training: grouped K-fold
 * cross-validation by fingerprint, so a shape never informs the error it is scored with. Upper quantiles are the
 * conformal ranks ceil((n + 1) q) of those out-of-fold residuals (beyond the largest: the largest plus one
 * doubling). Thread-safe; refits lazily after new runs.
 */
final class ResidualModel {
  /** Corrected metrics, in this order in every array. */
  static final int MEMORY = 0;
  static final int CPU = 1;
  static final int WALL = 2;
  static final int METRICS = 3;

  static final int FOLDS = 5;
  static final double RIDGE = 1.0;

  /**
   * A design variant: {@code -Dpenumbra.query.residual=intercept} corrects every estimate by one learned factor per
   * metric (the mean log residual) instead of a regression on the shadow's features, whose 14 coefficients fitted on a
   * few dozen templates can multiply a new shape's estimate by up to 30x on a feature no training shape had.
   */
  static final boolean INTERCEPT_ONLY = System.getProperty("penumbra.query.residual", "features").equals("intercept");

  /**
   * Whether a feature is held to the range the training runs spanned before the regression weighs it (true): the fit
   * only knows the correction inside that range, and a linear term carried past it multiplies a new shape's estimate
   * by whatever the slope says (a top-N's 10 ms estimate, its bounded share and small size beyond every training
   * shape's, was corrected to 440-890 ms). {@code -Dpenumbra.query.residual.clamp=false} measures the design before.
   */
  static final boolean CLAMP = Boolean.parseBoolean(System.getProperty("penumbra.query.residual.clamp", "true"));

  private record Run(String fingerprint, double[] x, double[] y) {}

  /**
   * A fit: coefficients per metric and the out-of-fold residual quantiles (log space) at 0.9 and 0.99.
   *
   * @param folds folds the cross-validation used (the shapes it held out, in groups)
   */
  record Fit(double[][] beta, double[][] upper, int runs, int shapes, int folds, double[] lo, double[] hi) {

    /** log(correction) for features {@code x} in metric {@code m}. */
    double logCorrection(double[] x, int m) {
      return predict(beta[m], x, lo, hi);
    }
  }

  /**
   * log(correction) of coefficients {@code b} at features {@code x}, each held to [lo, hi] (the training runs' range)
   * when clamping; beyond 30x either way it is extrapolation: the physics stays in charge.
   */
  static double predict(double[] b, double[] x, double[] lo, double[] hi) {
    double v = 0;
    for (int i = 0; i < b.length; i++) {
      double xi = CLAMP ? Math.max(lo[i], Math.min(hi[i], x[i])) : x[i];
      v += b[i] * xi;
    }
    return Math.max(-Math.log(30), Math.min(Math.log(30), v));
  }

  /** Each feature's smallest (row 0) and largest (row 1) value over {@code rows}. */
  static double[][] range(List<Run> rows) {
    int p = rows.get(0).x().length;
    double[][] r = new double[2][p];
    Arrays.fill(r[0], Double.POSITIVE_INFINITY);
    Arrays.fill(r[1], Double.NEGATIVE_INFINITY);
    for (Run run : rows) {
      for (int i = 0; i < p; i++) {
        r[0][i] = Math.min(r[0][i], run.x()[i]);
        r[1][i] = Math.max(r[1][i], run.x()[i]);
      }
    }
    return r;
  }

  private final int minRuns;
  private final int minShapes;
  private final int window;
  private final Deque<Run> runs = new ArrayDeque<>();
  private Fit fit;
  private boolean dirty;

  ResidualModel(int minRuns, int minShapes, int window) {
    this.minRuns = minRuns;
    this.minShapes = minShapes;
    this.window = window;
  }

  synchronized void add(String fingerprint, double[] x, double[] y) {
    if (y.length != METRICS) {
      throw new IllegalArgumentException("need " + METRICS + " residuals, was " + y.length);
    }
    runs.addLast(new Run(fingerprint, x.clone(), y.clone()));
    while (runs.size() > window) {
      runs.removeFirst();
    }
    dirty = true;
  }

  /** The current fit, or null while there are fewer than minRuns runs of minShapes shapes. */
  synchronized Fit fit() {
    if (dirty) {
      fit = fitNow(List.copyOf(runs));
      dirty = false;
    }
    return fit;
  }

  private Fit fitNow(List<Run> all) {
    List<String> shapes = new ArrayList<>(new TreeSet<>(all.stream().map(Run::fingerprint).toList()));
    if (all.size() < minRuns || shapes.size() < minShapes) {
      return null;
    }
    int folds = Math.min(FOLDS, shapes.size());
    double[][] beta = new double[METRICS][];
    double[][] upper = new double[METRICS][2];
    for (int m = 0; m < METRICS; m++) {
      beta[m] = solve(all, m);
      double[] oof = new double[all.size()];
      int k = 0;
      for (int f = 0; f < folds; f++) {
        final int fold = f;
        List<Run> train = all.stream().filter(r -> shapes.indexOf(r.fingerprint()) % folds != fold).toList();
        List<Run> test = all.stream().filter(r -> shapes.indexOf(r.fingerprint()) % folds == fold).toList();
        double[] b = solve(train, m);
        double[][] trainRange = range(train);
        for (Run r : test) {
          oof[k++] = r.y()[m] - predict(b, r.x(), trainRange[0], trainRange[1]);
        }
      }
      Arrays.sort(oof);
      upper[m][0] = Math.max(0, conformal(oof, 0.9));
      upper[m][1] = Math.max(upper[m][0], conformal(oof, 0.99));
    }
    double[][] allRange = range(all);
    return new Fit(beta, upper, all.size(), shapes.size(), folds, allRange[0], allRange[1]);
  }

  /** The conformal upper quantile of sorted residuals: rank ceil((n + 1) q), beyond the largest one doubling more. */
  static double conformal(double[] sorted, double q) {
    int n = sorted.length;
    int rank = (int) Math.ceil((n + 1) * q);
    return rank <= n ? sorted[rank - 1] : sorted[n - 1] + Math.log(2);
  }

  /** Ridge least squares (the intercept, feature 0, unpenalised) of metric m's residual on the features. */
  static double[] solve(List<Run> rows, int m) {
    int p = rows.get(0).x().length;
    if (INTERCEPT_ONLY) {
      double[] beta = new double[p];
      beta[0] = rows.stream().mapToDouble(r -> r.y()[m]).average().orElse(0);
      return beta;
    }
    double[][] a = new double[p][p];
    double[] b = new double[p];
    for (Run r : rows) {
      double[] x = r.x();
      for (int i = 0; i < p; i++) {
        b[i] += x[i] * r.y()[m];
        for (int j = 0; j < p; j++) {
          a[i][j] += x[i] * x[j];
        }
      }
    }
    for (int i = 1; i < p; i++) {
      a[i][i] += RIDGE;
    }
    a[0][0] += 1e-9;
    RealMatrix am = MatrixUtils.createRealMatrix(a);
    return new CholeskyDecomposition(am, 1e-12, 1e-14).getSolver().solve(MatrixUtils.createRealVector(b)).toArray();
  }
}
