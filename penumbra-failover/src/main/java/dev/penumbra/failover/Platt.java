package dev.penumbra.failover;

/**
 * Platt scaling: {@code p = 1 / (1 + exp(-(a * logit(s) + b)))} fitted by Newton's method on held-out scores,
 * with Platt's smoothed targets so that a calibration set with few positives does not produce 0 or 1.
 * Two parameters only: the held-out part of a failure data set has tens of positives, too few for isotonic
 * regression's step function to be stable.
 */
record Platt(double a, double b) {

  static final double EPS = 1e-9;

  static Platt fit(double[] scores, boolean[] positive) {
    int pos = 0;
    for (boolean p : positive) {
      pos += p ? 1 : 0;
    }
    int neg = positive.length - pos;
    double hi = (pos + 1.0) / (pos + 2.0);
    double lo = 1.0 / (neg + 2.0);
    double a = 1;
    double b = 0;
    for (int iter = 0; iter < 100; iter++) {
      // Gradient and Hessian of the log loss in (a, b), with a small ridge to keep the Hessian invertible.
      double ga = 0, gb = 0, haa = 1e-6, hab = 0, hbb = 1e-6;
      for (int i = 0; i < scores.length; i++) {
        double x = logit(scores[i]);
        double p = sigmoid(a * x + b);
        double t = positive[i] ? hi : lo;
        double d = p - t;
        double w = Math.max(p * (1 - p), 1e-12);
        ga += d * x;
        gb += d;
        haa += w * x * x;
        hab += w * x;
        hbb += w;
      }
      double det = haa * hbb - hab * hab;
      double da = (hbb * ga - hab * gb) / det;
      double db = (haa * gb - hab * ga) / det;
      a -= da;
      b -= db;
      if (Math.abs(da) < 1e-9 && Math.abs(db) < 1e-9) {
        break;
      }
    }
    return new Platt(a, b);
  }

  double apply(double score) {
    return sigmoid(a * logit(score) + b);
  }

  static double logit(double s) {
    double c = Math.min(1 - EPS, Math.max(EPS, s));
    return Math.log(c / (1 - c));
  }

  static double sigmoid(double z) {
    return 1 / (1 + Math.exp(-z));
  }
}
