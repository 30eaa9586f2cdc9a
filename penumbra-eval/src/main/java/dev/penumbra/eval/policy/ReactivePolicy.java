package dev.penumbra.eval.policy;

import java.util.ArrayDeque;

/**
 * Kubernetes HorizontalPodAutoscaler-style scaling on a continuous resource. From the latest observed use
 * {@code u} and the current allocation {@code a}: the utilisation ratio is {@code u / (target * a)}; within
 * the tolerance band [1 - tolerance, 1 + tolerance] nothing changes. Otherwise the desired allocation is
 * {@code u / target}. Scale-up applies at once; scale-down goes only to the maximum desired allocation over
 * the stabilisation window (the last {@code window} of trace time), as the HPA's downscale stabilisation does.
 */
final class ReactivePolicy implements Policy {

  static final double TARGET = 0.7;
  static final double TOLERANCE = 0.1;
  static final long WINDOW_MILLIS = 5L * 60 * 1000;

  private final int window;
  private final ArrayDeque<Double> recentDesired = new ArrayDeque<>();
  private double allocation;
  private boolean started;

  ReactivePolicy(PolicyContext context) {
    this.window = context.intervals(WINDOW_MILLIS);
  }

  @Override
  public String name() {
    return "reactive";
  }

  @Override
  public void observe(double used) {
    double desired = used / TARGET;
    recentDesired.addLast(desired);
    if (recentDesired.size() > window) {
      recentDesired.removeFirst();
    }
    if (!started) {
      allocation = desired;
      started = true;
      return;
    }
    double ratio = allocation > 0 ? used / (TARGET * allocation) : (used > 0 ? Double.POSITIVE_INFINITY : 1);
    if (ratio > 1 + TOLERANCE) {
      allocation = desired;
    } else if (ratio < 1 - TOLERANCE) {
      double stabilised = 0;
      for (double d : recentDesired) {
        stabilised = Math.max(stabilised, d);
      }
      allocation = Math.min(allocation, stabilised);
    }
  }

  @Override
  public double allocate(int interval) {
    return allocation;
  }
}
