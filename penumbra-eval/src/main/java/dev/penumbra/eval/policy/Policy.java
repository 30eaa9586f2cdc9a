package dev.penumbra.eval.policy;

/**
 * An allocation policy replayed against a usage trace. The replay drives it interval by interval: it is shown
 * the used values it is allowed to know ({@link #observe}, in order, each once), then asked for the
 * allocation of the next scored interval ({@link #allocate}). With lead {@code L}, the allocation of interval
 * {@code t} is asked after the values of intervals {@code 0..t-L} have been shown, never later ones.
 *
 * <p>Instances are single-threaded and belong to one replay of one trace.
 */
public interface Policy {

  /** The registry name, e.g. "reactive". */
  String name();

  /** The value used in the next interval this policy may see (intervals 0, 1, 2, ... in order). */
  void observe(double used);

  /**
   * The allocation (finite, >= 0, in the trace's unit) for {@code interval}, decided from what was observed.
   *
   * @param interval the index of the interval this allocation will be scored against
   */
  double allocate(int interval);
}
