package dev.penumbra.stream;

import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.loop.Baseline;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
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
 * workers it asks for serve only after the lag (scaling down is immediate). Penumbra's forecast already covers
 * the lead, so it is scored as sized; a reactive rule scored as if its workers came at once would look better
 * than it is.
 */
final class ReactiveBaseline implements Baseline<PartitionSignal> {

  static final String NAME = "reactive";

  private final double targetUtilisation;
  private final double catchUpSeconds;
  private final PlannerConfig config;
  private final Supplier<Duration> lag;
  private final Map<Integer, Deque<Asked>> asked = new HashMap<>();

  private record Asked(long timeMillis, Resources amount) {}

  ReactiveBaseline(double targetUtilisation, double catchUpSeconds, PlannerConfig config, Supplier<Duration> lag) {
    if (!(targetUtilisation > 0 && targetUtilisation <= 1)) {
      throw new IllegalArgumentException("reactive targetUtilisation must be in (0, 1], was " + targetUtilisation);
    }
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
    Deque<Asked> history = asked.computeIfAbsent(signal.partition(), p -> new ArrayDeque<>());
    if (history.isEmpty() || history.peekLast().timeMillis() < signal.timeMillis()) {
      history.addLast(new Asked(signal.timeMillis(), now));
    }
    long since = signal.timeMillis() - lag.get().toMillis();
    // The latest request at or before one lag ago is what serves now; older ones are no longer needed.
    Resources served = null;
    while (!history.isEmpty() && history.peekFirst().timeMillis() <= since) {
      Asked a = history.pollFirst();
      served = a.amount();
      if (history.isEmpty() || history.peekFirst().timeMillis() > since) {
        history.addFirst(a);
        break;
      }
    }
    if (served == null) {
      served = history.peekFirst().amount();
    }
    return StreamController.amountFor(Math.min(now.cpuMillis(), served.cpuMillis()), config);
  }
}
