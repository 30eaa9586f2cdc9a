package dev.penumbra.failover;

/**
 * The risk levels the shadow-node manager and the orchestrator act on, as calibrated failure probabilities.
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

  /** Decommission below 0.5, provision at 0.7, promote at 0.9. */
  public static Thresholds defaults() {
    return new Thresholds(0.5, 0.7, 0.9);
  }
}
