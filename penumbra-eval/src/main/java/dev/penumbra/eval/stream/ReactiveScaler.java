package dev.penumbra.eval.stream;

/**
 * The reactive baseline, in the style of Flink's autoscaler and DS2: from observed metrics only (no
 * forecast). Every tick, over a sliding metrics window, arrival rate {@code a} and true processing rate per
 * busy worker-second {@code mu = processed / busy seconds}; required workers
 * {@code ceil((a + backlog / catchUp) / (mu * target))}. It scales up when the required count is above the
 * current one, down only when it has stayed below for the whole scale-down delay and the utilisation is
 * under {@code target - boundary}; after any change it waits out a stabilisation interval.
 */
final class ReactiveScaler {

  record Settings(double window, double target, double boundary, double catchUp, double stabilisation,
      double scaleDownDelay, int maxWorkers) {}

  private final Settings s;
  private final int ticksInWindow;
  private final double[] arrived;
  private final double[] processed;
  private final double[] busy;
  private int filled;
  private int at;
  private long lastAccepted;
  private long lastProcessed;
  private double lastBusy;
  private double lastChange = Double.NEGATIVE_INFINITY;
  private double lowSince = Double.NaN;

  ReactiveScaler(Settings s, double tick) {
    this.s = s;
    this.ticksInWindow = Math.max(1, (int) Math.round(s.window() / tick));
    this.arrived = new double[ticksInWindow];
    this.processed = new double[ticksInWindow];
    this.busy = new double[ticksInWindow];
  }

  /** Observes one tick of the partition and returns the worker count to run. */
  int decide(double now, SimPartition p) {
    arrived[at] = p.accepted - lastAccepted;
    processed[at] = p.processed - lastProcessed;
    busy[at] = p.busySeconds() - lastBusy;
    lastAccepted = p.accepted;
    lastProcessed = p.processed;
    lastBusy = p.busySeconds();
    at = (at + 1) % ticksInWindow;
    filled = Math.min(filled + 1, ticksInWindow);
    double a = 0;
    double done = 0;
    double b = 0;
    for (int i = 0; i < filled; i++) {
      a += arrived[i];
      done += processed[i];
      b += busy[i];
    }
    int current = p.workers();
    if (b <= 0 || done <= 0 || now - lastChange < s.stabilisation()) {
      return current;
    }
    double seconds = filled * (s.window() / ticksInWindow);
    double rate = a / seconds;
    double mu = done / b;
    double need = (rate + p.backlog() / s.catchUp()) / (mu * s.target());
    int required = (int) Math.max(1, Math.min(s.maxWorkers(), Math.ceil(need - 1e-9)));
    double utilisation = rate / (mu * current);
    if (required > current) {
      lowSince = Double.NaN;
      lastChange = now;
      return required;
    }
    if (required < current && utilisation < s.target() - s.boundary()) {
      if (Double.isNaN(lowSince)) {
        lowSince = now;
      }
      if (now - lowSince >= s.scaleDownDelay()) {
        lowSince = Double.NaN;
        lastChange = now;
        return required;
      }
      return current;
    }
    lowSince = Double.NaN;
    return current;
  }
}
