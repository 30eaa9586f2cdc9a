package dev.penumbra.failover;

/**
 * The risk levels the shadow-node manager and the orchestrator act on, always levels of the same calibrated failure
 * probability within the model's horizon; what differs is how they are chosen.
 *
 * <ul>
 *   <li>The product's default is by alarm rate ({@link #atAlarmRates(FailureDataset, RiskModel)}): provision at the
 *       risk exceeded by the riskiest {@value #DEFAULT_PROVISION_SHARE} of the training node-days, promote at
 *       {@value #DEFAULT_PROMOTE_SHARE}. On the Backblaze data the best-calibrated model never scores above 0.28, so
 *       these are the levels that act; {@code bench failure} scores them on held-out days.
 *   <li>Fixed levels ({@link #fixed()}: 0.5 / 0.7 / 0.9, "of the nodes at 0.7, about 70% fail within the horizon")
 *       mean what they say only where the model reaches such probabilities; on the Backblaze data they never fire.
 * </ul>
 *
 * @param decommission a standby is removed once the node's risk has stayed below this for the hold time
 * @param provision a standby is provisioned at or above this
 * @param promote the work is moved to the standby at or above this, before the failure
 */
public record Thresholds(double decommission, double provision, double promote) {

  public Thresholds {
    check("decommission", decommission);
    check("provision", provision);
    check("promote", promote);
    if (!(decommission < provision)) {
      throw new IllegalArgumentException("decommission threshold (" + decommission
          + ") must be below the provision threshold (" + provision + ") for hysteresis");
    }
    if (!(provision < promote)) {
      throw new IllegalArgumentException("provision threshold (" + provision
          + ") must be below the promote threshold (" + promote + ")");
    }
  }

  private static void check(String name, double v) {
    if (!(v >= 0 && v <= 1)) {
      throw new IllegalArgumentException(name + " threshold must be in [0, 1], was " + v);
    }
  }

  /** The product's default share of training node-days a standby is provisioned for. */
  public static final double DEFAULT_PROVISION_SHARE = 0.01;
  /** The product's default share of training node-days whose work is moved before the failure. */
  public static final double DEFAULT_PROMOTE_SHARE = 0.001;

  /**
   * The product's default thresholds: at alarm rates {@value #DEFAULT_PROVISION_SHARE} (provision) and
   * {@value #DEFAULT_PROMOTE_SHARE} (promote) of {@code train}'s complete node-days, decommission at half the provision
   * level.
   */
  public static Thresholds atAlarmRates(FailureDataset train, RiskModel model) {
    return atAlarmRates(train, model, DEFAULT_PROVISION_SHARE, DEFAULT_PROMOTE_SHARE);
  }

  /**
   * Thresholds at alarm rates: provision at the risk exceeded by {@code provisionShare} of {@code train}'s node-days
   * as {@code model} scores them, promote at the risk exceeded by {@code promoteShare}, decommission at half the
   * provision level (hysteresis). For a deployment whose model never reaches the calibrated defaults.
   *
   * @throws IllegalArgumentException when a share is outside (0, 1) or promoteShare >= provisionShare
   */
  public static Thresholds atAlarmRates(FailureDataset train, RiskModel model, double provisionShare,
      double promoteShare) {
    if (!(provisionShare > 0 && provisionShare < 1)) {
      throw new IllegalArgumentException("provisionShare must be in (0, 1), was " + provisionShare);
    }
    if (!(promoteShare > 0 && promoteShare < provisionShare)) {
      throw new IllegalArgumentException("promoteShare must be in (0, provisionShare=" + provisionShare + "), was "
          + promoteShare);
    }
    double[] p = train.complete().stream().mapToDouble(r -> model.probability(r.features())).sorted().toArray();
    if (p.length == 0) {
      throw new IllegalArgumentException("no training day with every outcome known to set thresholds on");
    }
    double provision = p[(int) Math.floor(p.length * (1 - provisionShare))];
    double promote = p[(int) Math.floor(p.length * (1 - promoteShare))];
    if (!(provision > 0 && provision < 1)) {
      throw new IllegalArgumentException("the riskiest " + provisionShare + " of the training node-days score "
          + provision + ": no alarm-rate threshold separates them");
    }
    if (!(promote > provision)) {
      // Ties at the top: promote halfway between provisioning and certainty.
      promote = provision + (1 - provision) / 2;
    }
    return new Thresholds(provision / 2, provision, promote);
  }

  /**
   * Fixed calibrated levels: decommission below 0.5, provision at 0.7, promote at 0.9. Not the product's default: see
   * the class comment.
   */
  public static Thresholds fixed() {
    return new Thresholds(0.5, 0.7, 0.9);
  }

  /** The three risks to three significant digits, as an operator reads them in logs and on the dashboard. */
  @Override
  public String toString() {
    return String.format(java.util.Locale.ROOT, "decommission %.3g, provision %.3g, promote %.3g", decommission,
        provision, promote);
  }
}
