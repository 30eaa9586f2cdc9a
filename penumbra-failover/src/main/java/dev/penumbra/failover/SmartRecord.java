package dev.penumbra.failover;

import dev.penumbra.core.Checks;
import java.time.LocalDate;

/**
 * One drive's SMART snapshot of one day, as Backblaze publishes it, reduced to the attributes the failure model
 * reads. Raw values; {@link Double#NaN} where the drive does not report the attribute.
 *
 * @param date the day of the snapshot
 * @param serial the drive's serial number (its identity across days)
 * @param model the drive model
 * @param failed true on the drive's last day: it failed that day
 * @param reallocated SMART 5, reallocated sectors count
 * @param uncorrectable SMART 187, reported uncorrectable errors
 * @param commandTimeouts SMART 188, command timeouts
 * @param pending SMART 197, current pending sector count
 * @param offlineUncorrectable SMART 198, offline uncorrectable sectors
 * @param powerOnHours SMART 9, power-on hours (the drive's age)
 */
public record SmartRecord(LocalDate date, String serial, String model, boolean failed, double reallocated,
    double uncorrectable, double commandTimeouts, double pending, double offlineUncorrectable,
    double powerOnHours) {

  public SmartRecord {
    Checks.notNull("SMART record date", date);
    if (serial == null || serial.isBlank()) {
      throw new IllegalArgumentException("SMART record serial must not be blank, was '" + serial + "'");
    }
  }

  /**
   * Backblaze's own warning rule: any of SMART 5, 187, 188, 197, 198 raw above zero.
   */
  public boolean backblazeWarning() {
    return reallocated > 0 || uncorrectable > 0 || commandTimeouts > 0 || pending > 0 || offlineUncorrectable > 0;
  }
}
