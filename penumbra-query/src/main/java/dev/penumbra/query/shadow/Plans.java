package dev.penumbra.query.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Reads plan features from EXPLAIN JSON and sample scale factors from a profile tree. */
final class Plans {
  private Plans() {}

  static PlanFeatures features(JsonNode explainArray) {
    Acc a = new Acc();
    double root = 0;
    boolean first = true;
    for (JsonNode n : explainArray) {
      if (first) {
        root = estimate(n);
        first = false;
      }
      walk(n, a);
    }
    return new PlanFeatures(root, a.scanned, a.max, a.ops, a.joins, a.aggs, a.sorts, a.windows, a.filters, a.tables);
  }

  private static final class Acc {
    double scanned;
    double max;
    int ops;
    int joins;
    int aggs;
    int sorts;
    int windows;
    int filters;
    Set<String> tables = new TreeSet<>();
  }

  private static void walk(JsonNode n, Acc a) {
    String type = type(n);
    double est = estimate(n);
    a.ops++;
    a.max = Math.max(a.max, est);
    if (isJoin(type)) {
      a.joins++;
    } else if (type.contains("GROUP_BY") || type.contains("AGGREGATE")) {
      a.aggs++;
    } else if (type.equals("ORDER_BY") || type.equals("TOP_N")) {
      a.sorts++;
    } else if (type.contains("WINDOW")) {
      a.windows++;
    } else if (type.equals("FILTER")) {
      a.filters++;
    }
    String table = n.path("extra_info").path("Table").asText("");
    if (!table.isEmpty()) {
      a.tables.add(DuckDbProfiler.tableName(table));
      a.scanned += est;
    }
    for (JsonNode c : n.path("children")) {
      walk(c, a);
    }
  }

  static String type(JsonNode n) {
    return n.has("name") ? n.path("name").asText("") : n.path("type").asText("");
  }

  static boolean isJoin(String type) {
    return type.contains("JOIN") || type.equals("CROSS_PRODUCT");
  }

  static double estimate(JsonNode n) {
    JsonNode e = n.path("extra_info").path("Estimated Cardinality");
    if (e.isNumber()) {
      return e.asDouble();
    }
    try {
      return e.isMissingNode() ? 0 : Double.parseDouble(e.asText("0").replace("~", "").trim());
    } catch (NumberFormatException ex) {
      return 0;
    }
  }

  /** Scale factors and scan volume read from a sample's profile tree. */
  record SampleScale(double scanScale, double memoryScale, long scanBytes, Set<String> tables) {}

  static SampleScale scale(JsonNode profile, SamplingRule rule, double fraction, double effectiveFraction) {
    List<JsonNode> scans = new ArrayList<>();
    double[] memory = {1.0};
    for (JsonNode root : profile.path("operator")) {
      memoryWalk(root, rule, fraction, memory, scans);
    }
    double sampleRows = 0;
    double fullRows = 0;
    long bytes = 0;
    Set<String> tables = new TreeSet<>();
    for (JsonNode s : scans) {
      String t = DuckDbProfiler.tableName(s.path("extra_info").path("Table").asText(""));
      tables.add(t);
      double rows = s.path("rows_scanned").asDouble(s.path("intermediate_rows").asDouble(0));
      sampleRows += rows;
      fullRows += rows / rule.fraction(t, fraction);
      bytes += s.path("intermediate_size_bytes").asLong(0);
    }
    double scanScale = sampleRows > 0 ? fullRows / sampleRows : 1.0 / effectiveFraction;
    return new SampleScale(scanScale, memory[0], bytes, tables);
  }

  /** Collects scans; for each materializing operator, the growth of the input it holds in memory. */
  private static Set<String> memoryWalk(
      JsonNode n, SamplingRule rule, double fraction, double[] memory, List<JsonNode> scans) {
    String type = type(n);
    List<Set<String>> childTables = new ArrayList<>();
    for (JsonNode c : n.path("children")) {
      childTables.add(memoryWalk(c, rule, fraction, memory, scans));
    }
    Set<String> all = new TreeSet<>();
    childTables.forEach(all::addAll);
    String table = n.path("extra_info").path("Table").asText("");
    if (!table.isEmpty()) {
      all.add(DuckDbProfiler.tableName(table));
      scans.add(n);
    }
    Set<String> held = null;
    if (isJoin(type) && childTables.size() >= 2) {
      held = childTables.get(1); // DuckDB builds the hash table (or materializes) the right child
    } else if (type.contains("GROUP_BY") || type.equals("ORDER_BY") || type.contains("WINDOW")) {
      held = all;
    }
    if (held != null) {
      memory[0] = Math.max(memory[0], 1.0 / rule.effectiveFraction(held, fraction));
    }
    return all;
  }
}
