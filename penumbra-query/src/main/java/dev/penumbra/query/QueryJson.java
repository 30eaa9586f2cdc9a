package dev.penumbra.query;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.penumbra.core.Resources;
import dev.penumbra.query.predict.Estimate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The one JSON form of a query's answer and report, shared by {@code penumbra query --format json}, the query
 * benchmark and the server's {@code POST /v1/queries}: {@code columns}, {@code rows}, {@code rowCount} and
 * {@code report} (shadow, prediction with point/p90/p99 per metric, reservation with requested and granted
 * amounts, outcome, actual, adjustments). Records, written by the product's one mapper.
 */
public final class QueryJson {

  private QueryJson() {}

  /** The rows and the report; a cell is a number, a boolean, null or text. */
  public record Answer(List<String> columns, List<List<Object>> rows, long rowCount, Report report) {}

  /** A query's report; {@code error} only when the engine gave one. */
  public record Report(String user, String priority, String engine, Shadow shadow, Prediction prediction,
      Reservation reservation, String outcome, @JsonInclude(JsonInclude.Include.NON_NULL) String error,
      int attempts, QueryProfile actual, List<Adjustment> adjustments) {}

  /** What the shadow ran; {@code skipped} says why it did not run, {@code sample} what it measured. */
  public record Shadow(double fraction, double effectiveFraction, boolean cutOff, long wallNanos, long cpuNanos,
      @JsonInclude(JsonInclude.Include.NON_NULL) String skipped,
      @JsonInclude(JsonInclude.Include.NON_NULL) QueryProfile sample) {}

  /** The prediction per metric. */
  public record Prediction(String tier, boolean lowConfidence, Quantiles memoryBytes, Quantiles cpuNanos,
      Quantiles wallNanos, Quantiles bytesRead) {}

  /** A point and two upper quantiles. */
  public record Quantiles(long point, long p90, long p99) {
    static Quantiles of(Estimate e) {
      return new Quantiles(e.point(), e.at(0.9), e.at(0.99));
    }
  }

  /** What was asked of the ledger and what it granted. */
  public record Reservation(long id, String node, Amount requested, Amount amount, long queueWaitNanos) {}

  /** The dimensions a query reserves. */
  public record Amount(long cpuMillis, long memoryBytes) {
    /** The CPU and memory of {@code r}. */
    public static Amount of(Resources r) {
      return new Amount(r.cpuMillis(), r.memoryBytes());
    }
  }

  /** One change to the reservation while the query ran. */
  public record Adjustment(String kind, Amount before, Amount after, String reason) {}

  /** The rows and the report. */
  public static Answer response(QueryResponse r) {
    List<List<Object>> rows = new ArrayList<>(r.rows().size());
    for (List<Object> row : r.rows()) {
      List<Object> a = new ArrayList<>(row.size());
      for (Object v : row) {
        a.add(v == null ? null : v instanceof Number || v instanceof Boolean ? v : v.toString());
      }
      rows.add(a);
    }
    return new Answer(r.columns(), rows, r.rowCount(), report(r.report()));
  }

  /** The report alone. */
  public static Report report(QueryReport rep) {
    QueryReport.Shadow s = rep.shadow();
    Shadow shadow = new Shadow(s.fraction(), s.effectiveFraction(), s.cutOff(), s.wallNanos(), s.cpuNanos(),
        s.skipped().orElse(null), s.sample());
    Prediction p = new Prediction(rep.prediction().tier().name().toLowerCase(Locale.ROOT),
        rep.prediction().lowConfidence(), Quantiles.of(rep.prediction().memoryBytes()),
        Quantiles.of(rep.prediction().cpuNanos()), Quantiles.of(rep.prediction().wallNanos()),
        Quantiles.of(rep.prediction().bytesRead()));
    QueryReport.Allocation a = rep.reservation();
    Reservation res = new Reservation(a.id(), a.node(), Amount.of(a.requested()), Amount.of(a.amount()),
        a.queueWaitNanos());
    List<Adjustment> adj = rep.adjustments().stream().map(x -> new Adjustment(
        x.kind().name().toLowerCase(Locale.ROOT), Amount.of(x.before()), Amount.of(x.after()), x.reason())).toList();
    return new Report(rep.user(), rep.sla().priority().label(), rep.engine(), shadow, p, res,
        rep.outcome().name().toLowerCase(Locale.ROOT), rep.error().orElse(null), rep.attempts(), rep.actual(), adj);
  }
}
