package dev.penumbra.core.loop;

/**
 * The baseline guard's record: both rules' costs on the same spans of measured use, kept as decayed sums; the
 * rule not acting takes over once it has been cheaper by more than the hysteresis (after {@code minScored} spans).
 * Penumbra's model is scored even while the baseline acts (its sizes are still computed), so it can win back.
 * Not thread-safe: the loop calls it under its own lock.
 */
final class BaselineGuard {

  private final double hysteresis;
  private final int minScored;
  private final double decay;
  private double penumbraCost;
  private double baselineCost;
  private long scored;
  private long switches;
  private ControlLoop.Rule acting = ControlLoop.Rule.PENUMBRA;

  BaselineGuard(double hysteresis, int minScored, int costHalfLife) {
    this.hysteresis = hysteresis;
    this.minScored = minScored;
    this.decay = Math.pow(0.5, 1.0 / costHalfLife);
  }

  /** Adds one span's costs of both rules and switches the acting rule when the other has become cheaper enough. */
  void score(double ownCost, double baseCost) {
    penumbraCost = penumbraCost * decay + ownCost;
    baselineCost = baselineCost * decay + baseCost;
    scored++;
    if (scored < minScored) {
      return;
    }
    if (acting == ControlLoop.Rule.PENUMBRA && baselineCost < penumbraCost * (1 - hysteresis)) {
      acting = ControlLoop.Rule.BASELINE;
      switches++;
    } else if (acting == ControlLoop.Rule.BASELINE && penumbraCost < baselineCost * (1 - hysteresis)) {
      acting = ControlLoop.Rule.PENUMBRA;
      switches++;
    }
  }

  ControlLoop.Rule acting() {
    return acting;
  }

  LoopStats.Guard stats(String baselineName) {
    return new LoopStats.Guard(baselineName, acting, penumbraCost, baselineCost, scored, switches);
  }
}
