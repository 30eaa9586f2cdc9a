package dev.penumbra.stream;

import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.loop.Baseline;

/**
 * The rule users would run instead of Penumbra's forecast: a reactive scaler in the style of DS2 and Flink's
 * autoscaler, sized from the last measured arrival rate alone. It holds what the last interval's arrivals plus
 * draining the backlog within {@code catchUpSeconds} need at {@code targetUtilisation}, in whole workers'
 * memory. The stream's loop scores it beside the forecast on the same measured use (the baseline guard).
 */
final class ReactiveBaseline implements Baseline<PartitionSignal> {

  static final String NAME = "reactive";

  private final double targetUtilisation;
  private final double catchUpSeconds;
  private final PlannerConfig config;

  ReactiveBaseline(double targetUtilisation, double catchUpSeconds, PlannerConfig config) {
    if (!(targetUtilisation > 0 && targetUtilisation <= 1)) {
      throw new IllegalArgumentException("reactive targetUtilisation must be in (0, 1], was " + targetUtilisation);
    }
    if (!(catchUpSeconds > 0 && Double.isFinite(catchUpSeconds))) {
      throw new IllegalArgumentException("reactive catchUpSeconds must be > 0, was " + catchUpSeconds);
    }
    this.targetUtilisation = targetUtilisation;
    this.catchUpSeconds = catchUpSeconds;
    this.config = config;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Resources size(PartitionSignal signal, Sla sla, Resources lastObserved) {
    if (signal == null) {
      return null;
    }
    double rate = signal.rate() + signal.backlog() / catchUpSeconds;
    long cpu = (long) Math.ceil(rate * signal.costSecondsPerRecord() * 1000 / targetUtilisation - 1e-6);
    return StreamController.amountFor(Math.max(0, cpu), config);
  }
}
