package dev.penumbra.core.loop;

import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Sla;

/**
 * The rule a user would run instead of Penumbra for this kind of work — grant what is asked, a reactive scaler
 * on the last measurement, a static size — carried by the loop beside Penumbra's own model. The loop scores both
 * on the same measured use with one {@link CostModel} and acts on the cheaper ({@link ControlLoop} "baseline
 * guard"), so Penumbra is never worse than this rule beyond the cost of switching.
 *
 * @param <S> the signal the loop's model reads
 */
public interface Baseline<S> {

  /** The rule's name, e.g. "grant-on-request", "reactive", "static". */
  String name();

  /**
   * What the rule would hold for the work now.
   *
   * @param signal what the capability knows of the work (as given to the loop)
   * @param sla the work's SLA
   * @param lastObserved the work's latest measured use, or null before the first measurement
   */
  Resources size(S signal, Sla sla, Resources lastObserved);

  /** A rule that grants a fixed amount whatever the work. */
  static <S> Baseline<S> fixed(String name, Resources amount) {
    if (amount == null) {
      throw new IllegalArgumentException("amount of baseline '" + name + "' must not be null");
    }
    return new Baseline<>() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public Resources size(S signal, Sla sla, Resources lastObserved) {
        return amount;
      }
    };
  }
}
