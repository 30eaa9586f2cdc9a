package dev.penumbra.failover;

import dev.penumbra.core.Checks;
import dev.penumbra.core.predict.Features;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Labelled drive-days of one period (a split) for a failure horizon of {@code horizonDays}: a row is positive
 * when its drive fails within the horizon (that day or the {@code horizonDays - 1} after it).
 *
 * <p>No future leaks in: features read the drive's history up to the row's day only (earlier days may come from
 * {@code context}, e.g. the training days before a test split); labels read failures inside the period only. A
 * negative row whose horizon runs past the period's last day has an unknown outcome ({@link Row#known()} false):
 * training drops it, evaluation counts it as negative (conservative: a drive failing just after the period then
 * counts as a false alarm).
 */
public final class FailureDataset {

  /**
   * One drive-day.
   *
   * @param record the day's SMART snapshot
   * @param features what the model reads
   * @param positive the drive fails within the horizon, inside the period
   * @param known the outcome is known inside the period (positive, or the horizon ends inside it)
   * @param failureDate the day the drive failed inside the period, or null
   */
  public record Row(SmartRecord record, Features features, boolean positive, boolean known, LocalDate failureDate) {}

  private final List<Row> rows;
  private final int horizonDays;
  private final LocalDate first;
  private final LocalDate last;

  private FailureDataset(List<Row> rows, int horizonDays, LocalDate first, LocalDate last) {
    this.rows = List.copyOf(rows);
    this.horizonDays = horizonDays;
    this.first = first;
    this.last = last;
  }

  /**
   * Labels {@code period}'s records.
   *
   * @param period the split's records (any order)
   * @param context earlier records (e.g. the training split) read only as history for features; may be empty
   * @param horizonDays the failure horizon in days, >= 1
   */
  public static FailureDataset of(List<SmartRecord> period, List<SmartRecord> context, int horizonDays) {
    Checks.atLeast("horizonDays", horizonDays, 1);
    if (period.isEmpty()) {
      throw new IllegalArgumentException("a failure dataset needs at least one record");
    }
    LocalDate first = period.stream().map(SmartRecord::date).min(Comparator.naturalOrder()).orElseThrow();
    LocalDate last = period.stream().map(SmartRecord::date).max(Comparator.naturalOrder()).orElseThrow();
    Map<String, List<SmartRecord>> bySerial = new HashMap<>();
    for (SmartRecord r : context) {
      if (r.date().isBefore(first)) {
        bySerial.computeIfAbsent(r.serial(), k -> new ArrayList<>()).add(r);
      }
    }
    Map<String, LocalDate> failures = new HashMap<>();
    for (SmartRecord r : period) {
      bySerial.computeIfAbsent(r.serial(), k -> new ArrayList<>()).add(r);
      if (r.failed()) {
        failures.put(r.serial(), r.date());
      }
    }
    List<Row> rows = new ArrayList<>(period.size());
    for (List<SmartRecord> h : bySerial.values()) {
      h.sort(Comparator.comparing(SmartRecord::date));
      LocalDate failed = failures.get(h.get(0).serial());
      for (int i = 0; i < h.size(); i++) {
        SmartRecord r = h.get(i);
        if (r.date().isBefore(first)) {
          continue;
        }
        long toFailure = failed == null ? Long.MAX_VALUE : ChronoUnit.DAYS.between(r.date(), failed);
        boolean positive = toFailure >= 0 && toFailure < horizonDays;
        boolean known = positive || !r.date().plusDays(horizonDays - 1).isAfter(last);
        rows.add(new Row(r, FailureFeatures.of(h.subList(0, i + 1)), positive, known, failed));
      }
    }
    rows.sort(Comparator.comparing((Row r) -> r.record().date()).thenComparing(r -> r.record().serial()));
    return new FailureDataset(rows, horizonDays, first, last);
  }

  /**
   * The rows of the days whose every outcome is known inside the period: the days up to {@code last - horizon + 1}.
   * On the later days only the positives are known (a failure inside the period), so keeping their rows would
   * enrich the tail of the period with failures: a model calibrated on them promises risks that never come true.
   */
  public List<Row> complete() {
    LocalDate lastComplete = last.minusDays(horizonDays - 1);
    return rows.stream().filter(r -> !r.record().date().isAfter(lastComplete)).toList();
  }

  /** Rows in date order, then serial. */
  public List<Row> rows() {
    return rows;
  }

  public int horizonDays() {
    return horizonDays;
  }

  public LocalDate first() {
    return first;
  }

  public LocalDate last() {
    return last;
  }

  /** Days the period covers. */
  public long days() {
    return ChronoUnit.DAYS.between(first, last) + 1;
  }
}
