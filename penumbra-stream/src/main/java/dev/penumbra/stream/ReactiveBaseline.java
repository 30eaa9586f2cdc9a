package dev.penumbra.stream;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.loop.Baseline;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The rule users would run instead of Penumbra's forecast: a reactive scaler in the style of DS2 and Flink's
 * autoscaler, sized from the last measured arrival rate alone. It asks for what the last interval's arrivals plus
 * draining the backlog within {@code catchUpSeconds} need at {@code targetUtilisation}, in whole workers' memory.
 * The stream's loop scores it beside the forecast on the same measured use (the baseline guard).
 *
 * <p>What it holds is what it asked for one acquisition lag ago when that is less than what it asks for now:
 * workers it asks for serve only after the lag. Like those scalers it scales down only after a lower need has
 * lasted its scale-down delay: it keeps the most it asked for within the delay (once served). Penumbra's forecast
 * already covers the lead, so it is scored as sized; a reactive rule scored as if its workers came at once, or
 * as if it dropped them the moment the rate fell, would not be the rule users run.
 */
final class ReactiveBaseline implements Baseline<PartitionSignal> {

  static final String NAME = "reactive";

  private final double targetUtilisation;
  private final double catchUpSeconds;
  private final PlannerConfig config;
  private final Supplier<Duration> lag;
  private final long scaleDownDelayMillis;
  private final Map<Integer, List<Asked>> asked = new HashMap<>();

  private record Asked(long timeMillis, Resources amount) {}

  ReactiveBaseline(double targetUtilisation, double catchUpSeconds, PlannerConfig config, Supplier<Duration> lag) {
    this(targetUtilisation, catchUpSeconds, config, lag, Duration.ZERO);
  }

  ReactiveBaseline(double targetUtilisation, double catchUpSeconds, PlannerConfig config, Supplier<Duration> lag,
      Duration scaleDownDelay) {
    Checks.notNegative("reactive scaleDownDelay", scaleDownDelay);
    this.scaleDownDelayMillis = scaleDownDelay.toMillis();
    Checks.share("reactive targetUtilisation", targetUtilisation);
    if (!(catchUpSeconds > 0 && Double.isFinite(catchUpSeconds))) {
      throw new IllegalArgumentException("reactive catchUpSeconds must be > 0, was " + catchUpSeconds);
    }
    this.targetUtilisation = targetUtilisation;
    this.catchUpSeconds = catchUpSeconds;
    this.config = config;
    this.lag = lag;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public synchronized Resources size(PartitionSignal signal, Sla sla, Resources lastObserved) {
    if (signal == null) {
      return null;
    }
    double rate = signal.rate() + signal.backlog() / catchUpSeconds;
    long cpu = (long) Math.ceil(rate * signal.costSecondsPerRecord() * 1000 / targetUtilisation - 1e-6);
    Resources now = StreamController.amountFor(Math.max(0, cpu), config);
    List<Asked> history = asked.computeIfAbsent(signal.partition(), p -> new ArrayList<>());
    if (history.isEmpty() || history.get(history.size() - 1).timeMillis() < signal.timeMillis()) {
      history.add(new Asked(signal.timeMillis(), now));
    }
    long lagMillis = lag.get().toMillis();
    long since = signal.timeMillis() - lagMillis;
    long keepFrom = signal.timeMillis() - Math.max(lagMillis, scaleDownDelayMillis);
    // Requests older than both the lag and the scale-down delay no longer matter, except the latest of them.
    while (history.size() > 1 && history.get(1).timeMillis() <= keepFrom) {
      history.remove(0);
    }
    // The latest request at or before one lag ago is what serves now.
    Resources served = history.get(0).amount();
    long held = 0;
    for (Asked a : history) {
      if (a.timeMillis() <= since) {
        served = a.amount();
        if (a.timeMillis() > signal.timeMillis() - scaleDownDelayMillis) {
          // Served within the scale-down delay: still held.
          held = Math.max(held, a.amount().cpuMillis());
        }
      }
    }
    return StreamController.amountFor(Math.max(Math.min(now.cpuMillis(), served.cpuMillis()), held), config);
  }
}
