package dev.penumbra.eval.trace;

import dev.penumbra.core.Resources.Dimension;
import java.util.Random;

/**
 * A synthetic, seeded demonstration trace, so a replay works with nothing downloaded: seven days at 5-minute
 * intervals (2016 values) starting 2026-01-05T00:00Z.
 *
 * <p>CPU (percent of one machine): a base of 20 rising by 1 per day (trend), plus a daily cycle
 * {@code 15 * (1 - cos(2 pi h / 24)) / 2 + 10 * max(0, sin(2 pi (h - 8) / 24))^2} peaking in the afternoon
 * (h = hour of day), plus Gaussian noise (sd 2), plus bursts (each interval starts one with probability 1%;
 * a burst adds 15-35 for 2-12 intervals); from day 5 on a regime change multiplies the level by 1.4 and the
 * noise by 1.5. Memory (GiB): 4 plus a slow daily cycle of amplitude 1.5 and a sawtooth of collected garbage
 * (growing 0.02 per interval, dropping to 0 when it exceeds 1), plus noise (sd 0.05); from day 5 the base
 * grows to 6. Values are clipped at 0 (and CPU at 100).
 */
public final class DemoTrace {

  /** The seed of {@link #of(Dimension)}. */
  public static final long SEED = 20260105L;

  static final int DAYS = 7;
  static final long STEP_MILLIS = 5L * 60 * 1000;
  static final long START_MILLIS = 1767571200000L; // 2026-01-05T00:00:00Z

  private DemoTrace() {}

  /** The demonstration trace of {@code resource} (io and network use the CPU shape) with the fixed seed. */
  public static Trace of(Dimension resource) {
    return of(resource, SEED);
  }

  public static Trace of(Dimension resource, long seed) {
    Random random = new Random(seed);
    int perDay = (int) (24 * 3600 * 1000L / STEP_MILLIS);
    int n = DAYS * perDay;
    double[] v = new double[n];
    boolean memory = resource == Dimension.MEMORY;
    int burstLeft = 0;
    double burstSize = 0;
    double garbage = 0;
    for (int i = 0; i < n; i++) {
      double day = (double) i / perDay;
      double hour = (day - Math.floor(day)) * 24;
      boolean changed = day >= 5;
      double noise = random.nextGaussian();
      if (memory) {
        double base = changed ? 6 : 4;
        garbage += 0.02;
        if (garbage > 1) {
          garbage = 0;
        }
        v[i] = Math.max(0, base + 1.5 * (1 - Math.cos(2 * Math.PI * hour / 24)) / 2 + garbage + 0.05 * noise);
      } else {
        double cycle = 15 * (1 - Math.cos(2 * Math.PI * hour / 24)) / 2
            + 10 * Math.pow(Math.max(0, Math.sin(2 * Math.PI * (hour - 8) / 24)), 2);
        double level = (20 + day + cycle) * (changed ? 1.4 : 1);
        if (burstLeft == 0 && random.nextDouble() < 0.01) {
          burstLeft = 2 + random.nextInt(11);
          burstSize = 15 + 20 * random.nextDouble();
        }
        double burst = 0;
        if (burstLeft > 0) {
          burst = burstSize;
          burstLeft--;
        }
        v[i] = Math.min(100, Math.max(0, level + burst + 2 * (changed ? 1.5 : 1) * noise));
      }
    }
    String unit = memory ? "GiB" : "percent";
    return new Trace("demo:" + resource.label(), resource, unit, START_MILLIS, STEP_MILLIS, v);
  }
}
