package dev.penumbra.core.forecast;

/**
 * Additive Holt-Winters: level, trend and one seasonal offset per phase, each exponentially smoothed.
 *
 * <p>With a given season m it runs as Holt until 2m values exist, then starts its state from the last two
 * seasons (trend from the difference of their means, offsets from the detrended values) and from then on
 * updates level = a(x - s) + (1-a)(level + trend), trend = b(level - level') + (1-b) trend,
 * s = g(x - level) + (1-g) s.
 *
 * <p>With season 0 it detects the period by autocorrelation ({@link SeasonDetector}) once 24 values exist,
 * again whenever the history has grown by a quarter (at least 24, at most 256 observations), and restarts its
 * seasonal state from history when the period changes. While no season is found it forecasts as Holt.
 */
final class HoltWinters extends BaseForecaster {

  /** Longest season accepted. */
  static final int MAX_SEASON = 2048;
  /** History kept for detection and (re)initialisation when the season is detected. */
  static final int DETECT_HISTORY = 1024;
  static final int FIRST_CHECK = 24;
  static final int MAX_CHECK_INTERVAL = 256;

  private final double alpha;
  private final double beta;
  private final double gamma;
  private final int fixedSeason;
  private final Holt.HoltState holt;
  private final double[] history;
  private final SeasonDetector detector;
  private int historySize;
  private int historyNext;
  private long nextCheck = FIRST_CHECK;

  private int season;
  private double level;
  private double trend;
  private double[] offsets = new double[0];

  HoltWinters(double alpha, double beta, double gamma, int season) {
    super("holt-winters(" + alpha + "," + beta + "," + gamma + "," + (season == 0 ? "auto" : season) + ")");
    this.alpha = alpha;
    this.beta = beta;
    this.gamma = gamma;
    this.fixedSeason = season;
    this.holt = new Holt.HoltState(alpha, beta);
    this.history = new double[season == 0 ? DETECT_HISTORY : 2 * season];
    this.detector = season == 0 ? new SeasonDetector(DETECT_HISTORY) : null;
  }

  /** The season in use, 0 while none. */
  int season() {
    return season;
  }

  @Override
  void update(long timeMillis, double value) {
    long index = observations();
    history[historyNext] = value;
    historyNext = (historyNext + 1) % history.length;
    historySize = Math.min(historySize + 1, history.length);
    holt.update(value);
    if (season > 0) {
      int slot = (int) (index % season);
      double offset = offsets[slot];
      double previous = level;
      level = alpha * (value - offset) + (1 - alpha) * (level + trend);
      trend = beta * (level - previous) + (1 - beta) * trend;
      offsets[slot] = gamma * (value - level) + (1 - gamma) * offset;
    }
    long n = index + 1;
    if (fixedSeason > 0) {
      if (season == 0 && n >= 2L * fixedSeason) {
        start(fixedSeason, index);
      }
    } else if (n >= nextCheck) {
      nextCheck = n + Math.min(MAX_CHECK_INTERVAL, Math.max(FIRST_CHECK, n / 4));
      int found = detector.detect(history, historyNext, historySize);
      if (found == 0) {
        season = 0;
      } else if (found != season) {
        start(found, index);
      }
    }
  }

  /** Starts the seasonal state from the last two seasons of history, ending at observation {@code last}. */
  private void start(int m, long last) {
    season = m;
    offsets = new double[m];
    double mean1 = 0;
    double mean2 = 0;
    for (int k = 0; k < m; k++) {
      mean1 += at(2 * m - 1 - k);
      mean2 += at(m - 1 - k);
    }
    mean1 /= m;
    mean2 /= m;
    trend = (mean2 - mean1) / m;
    double center2 = m + (m - 1) / 2.0;
    double sum = 0;
    for (int k = 0; k < 2 * m; k++) {
      double y = at(2 * m - 1 - k);
      double line = mean2 + trend * (k - center2);
      int slot = (int) ((last - (2L * m - 1) + k) % m);
      offsets[slot] += (y - line) / 2;
      sum += (y - line) / 2;
    }
    double shift = sum / m;
    for (int i = 0; i < m; i++) {
      offsets[i] -= shift;
    }
    level = mean2 + trend * (m - 1) / 2.0 + shift;
  }

  /** The value {@code back} observations before the newest (0 = newest). */
  private double at(int back) {
    int i = historyNext - 1 - back;
    return history[i < 0 ? i + history.length : i];
  }

  @Override
  double predict(int horizon) {
    if (season == 0) {
      return holt.level + horizon * holt.trend;
    }
    long aim = observations() - 1 + horizon;
    return level + horizon * trend + offsets[(int) (aim % season)];
  }
}
