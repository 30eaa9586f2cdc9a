package dev.penumbra.eval.policy;

/** Perfect foresight: allocates exactly what the interval will use. The bound no policy can beat. */
final class OraclePolicy implements Policy {

  private final double[] future;

  OraclePolicy(PolicyContext context) {
    this.future = context.trace().values();
  }

  @Override
  public String name() {
    return "oracle";
  }

  @Override
  public void observe(double used) {}

  @Override
  public double allocate(int interval) {
    return future[interval];
  }
}
