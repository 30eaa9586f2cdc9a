package dev.penumbra.query;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.core.Resources;
import dev.penumbra.query.predict.Estimate;
import java.util.List;
import java.util.Locale;

/**
 * The one JSON form of a query's answer and report, shared by {@code penumbra query --format json}, the query
 * benchmark and the server's {@code POST /v1/queries}: {@code columns}, {@code rows}, {@code rowCount} and
 * {@code report} (shadow, prediction with point/p90/p99 per metric, reservation with requested and granted
 * amounts, outcome, actual, adjustments).
 */
public final class QueryJson {

  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private QueryJson() {}

  /** The rows and the report. */
  public static ObjectNode response(QueryResponse r) {
    ObjectNode root = F.objectNode();
    ArrayNode cols = root.putArray("columns");
    r.columns().forEach(cols::add);
    ArrayNode rows = root.putArray("rows");
    for (List<Object> row : r.rows()) {
      ArrayNode a = rows.addArray();
      for (Object v : row) {
        a.addPOJO(v == null ? null : v instanceof Number || v instanceof Boolean ? v : v.toString());
      }
    }
    root.put("rowCount", r.rowCount());
    root.set("report", report(r.report()));
    return root;
  }

  /** The report alone. */
  public static ObjectNode report(QueryReport rep) {
    ObjectNode n = F.objectNode();
    n.put("user", rep.user());
    n.put("priority", rep.sla().priority().label());
    n.put("engine", rep.engine());
    ObjectNode s = n.putObject("shadow");
    s.put("fraction", rep.shadow().fraction());
    s.put("effectiveFraction", rep.shadow().effectiveFraction());
    s.put("cutOff", rep.shadow().cutOff());
    s.put("wallNanos", rep.shadow().wallNanos());
    s.put("cpuNanos", rep.shadow().cpuNanos());
    rep.shadow().skipped().ifPresent(why -> s.put("skipped", why));
    if (rep.shadow().sample() != null) {
      s.set("sample", profile(rep.shadow().sample()));
    }
    ObjectNode p = n.putObject("prediction");
    p.put("tier", rep.prediction().tier().name().toLowerCase(Locale.ROOT));
    p.put("lowConfidence", rep.prediction().lowConfidence());
    p.set("memoryBytes", estimate(rep.prediction().memoryBytes()));
    p.set("cpuNanos", estimate(rep.prediction().cpuNanos()));
    p.set("wallNanos", estimate(rep.prediction().wallNanos()));
    p.set("bytesRead", estimate(rep.prediction().bytesRead()));
    ObjectNode res = n.putObject("reservation");
    res.put("id", rep.reservation().id());
    res.put("node", rep.reservation().node());
    res.set("requested", resources(rep.reservation().requested()));
    res.set("amount", resources(rep.reservation().amount()));
    res.put("queueWaitNanos", rep.reservation().queueWaitNanos());
    n.put("outcome", rep.outcome().name().toLowerCase(Locale.ROOT));
    rep.error().ifPresent(e -> n.put("error", e));
    n.put("attempts", rep.attempts());
    n.set("actual", profile(rep.actual()));
    ArrayNode adj = n.putArray("adjustments");
    for (QueryReport.Adjustment a : rep.adjustments()) {
      ObjectNode o = adj.addObject();
      o.put("kind", a.kind().name().toLowerCase(Locale.ROOT));
      o.set("before", resources(a.before()));
      o.set("after", resources(a.after()));
      o.put("reason", a.reason());
    }
    return n;
  }

  /** {@code {"cpuMillis", "memoryBytes"}}: the dimensions a query reserves. */
  public static ObjectNode resources(Resources r) {
    ObjectNode n = F.objectNode();
    n.put("cpuMillis", r.cpuMillis());
    n.put("memoryBytes", r.memoryBytes());
    return n;
  }

  static ObjectNode estimate(Estimate e) {
    ObjectNode o = F.objectNode();
    o.put("point", e.point());
    o.put("p90", e.at(0.9));
    o.put("p99", e.at(0.99));
    return o;
  }

  static ObjectNode profile(QueryProfile p) {
    ObjectNode o = F.objectNode();
    o.put("cpuNanos", p.cpuNanos());
    o.put("peakMemoryBytes", p.peakMemoryBytes());
    o.put("wallNanos", p.wallNanos());
    o.put("bytesRead", p.bytesRead());
    o.put("rowsScanned", p.rowsScanned());
    o.put("rowsReturned", p.rowsReturned());
    o.put("spilledBytes", p.spilledBytes());
    return o;
  }
}
