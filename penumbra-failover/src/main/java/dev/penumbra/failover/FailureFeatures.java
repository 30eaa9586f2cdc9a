package dev.penumbra.failover;

import dev.penumbra.core.predict.Features;
import java.util.List;

/**
 * The features of one drive on one day, from its SMART history up to and including that day (never after):
 * the log of each warning counter (SMART 5, 187, 188, 197, 198), its growth over the last {@value #DELTA_DAYS}
 * days, the drive's age in years (SMART 9) and Backblaze's warning flag. Logs, because the counters span zero to
 * tens of thousands and a linear model should see "a few more" and "thousands more" as different, not as
 * thousands of times different.
 */
public final class FailureFeatures {

  /** How many days back the growth of a counter is measured. */
  public static final int DELTA_DAYS = 3;

  public static final String AGE = "age_years";
  public static final List<String> ALL = List.of("smart5", "smart187", "smart188", "smart197", "smart198",
      "d_smart5", "d_smart187", "d_smart197", "d_smart198", AGE, "warning");
  /** The drive-age-only model's single feature. */
  public static final List<String> AGE_ONLY = List.of(AGE);

  private FailureFeatures() {}

  /**
   * The features of the last record of {@code history}: the drive's records in date order, the last one being
   * today. Only records of the last {@value #DELTA_DAYS} days before it are read.
   */
  public static Features of(List<SmartRecord> history) {
    if (history == null || history.isEmpty()) {
      throw new IllegalArgumentException("a drive's SMART history must hold at least today's record");
    }
    SmartRecord today = history.get(history.size() - 1);
    SmartRecord before = today;
    for (int i = history.size() - 2; i >= 0; i--) {
      SmartRecord r = history.get(i);
      if (!r.serial().equals(today.serial())) {
        throw new IllegalArgumentException("history mixes drives '" + r.serial() + "' and '" + today.serial() + "'");
      }
      if (!r.date().isBefore(today.date())) {
        throw new IllegalArgumentException("history of drive '" + today.serial() + "' is not in date order at "
            + r.date());
      }
      if (r.date().isBefore(today.date().minusDays(DELTA_DAYS))) {
        break;
      }
      before = r;
    }
    return Features.builder()
        .put("smart5", log(today.reallocated()))
        .put("smart187", log(today.uncorrectable()))
        .put("smart188", log(today.commandTimeouts()))
        .put("smart197", log(today.pending()))
        .put("smart198", log(today.offlineUncorrectable()))
        .put("d_smart5", growth(today.reallocated(), before.reallocated()))
        .put("d_smart187", growth(today.uncorrectable(), before.uncorrectable()))
        .put("d_smart197", growth(today.pending(), before.pending()))
        .put("d_smart198", growth(today.offlineUncorrectable(), before.offlineUncorrectable()))
        .put(AGE, Double.isNaN(today.powerOnHours()) ? 0 : today.powerOnHours() / 8766.0)
        .put("warning", today.backblazeWarning() ? 1 : 0)
        .build();
  }

  private static double log(double v) {
    return Double.isNaN(v) ? 0 : Math.log1p(v);
  }

  private static double growth(double now, double then) {
    if (Double.isNaN(now) || Double.isNaN(then) || now <= then) {
      return 0;
    }
    return Math.log1p(now - then);
  }
}
