package dev.penumbra.query.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import dev.penumbra.query.QueryProfile;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Scales a sample run's DuckDB profile to the full data per operator, each with its growth law:
 *
 * <ul>
 *   <li>table scans (and the filters, projections above them) are linear in the rows: a hashed table grows by
 *       1/fraction, a table copied whole by 1; a scan driven by a row-id filter (late materialization under a
 *       top-N) or cut short by a LIMIT reads a bounded number of rows and does not grow;
 *   <li>joins: output rows grow by the larger side's growth when the sides share a hash group or one is whole
 *       (a key-aligned or foreign-key join), by the product when they are sampled independently; semi, anti and
 *       mark joins by their outer side; time by the probe, build and output rows; memory by the build side's
 *       bytes;
 *   <li>hash aggregates: groups by {@link DistinctEstimator} over the sampling units under them (distinct values
 *       do not grow linearly); time by input and groups; memory by the groups' bytes;
 *   <li>sorts and windows: n log n in time, their input's bytes in memory;
 *   <li>top-N and LIMIT: output bounded by N, time linear in the input, memory the N rows.
 * </ul>
 *
 * An operator that saw no sample rows under a scan that did read rows (a very selective predicate) takes the
 * optimizer's estimated cardinality for its size instead, and the result says so ({@link ScaledProfile#fallback}).
 */
final class OperatorScaling {
  private OperatorScaling() {}

  /**
   * Share of the full query's scanned bytes DuckDB's buffer pool is taken to hold: the primary counts the pages it
   * reads (compressed, about a quarter of the decompressed column data) as well as its operators' memory.
   */
  static final double PAGE_SHARE = 0.25;

  /**
   * A design variant, off by default: {@code -Dpenumbra.query.sortedOwnBytes=true} has a sort or window hold the
   * larger of its input's and its own output's bytes (which count the strings; an uncompressed sample's scan passes
   * 16-byte string headers) instead of its input's. Measured (docs/benchmarks.md) it did not raise the blended,
   * corrected memory of the wide-string sorts that spill, and widened the held-out memory p90.
   */
  static final boolean SORTED_OWN_BYTES =
      Boolean.parseBoolean(System.getProperty("penumbra.query.sortedOwnBytes", "false"));

  /** Bytes per row assumed when an operator saw no rows to measure a width from. */
  static final double DEFAULT_ROW_BYTES = 32;

  /**
   * Groups of a key holding no sampling key that outnumber the sampling units are estimated over the input rows
   * (true) rather than grown with the units; {@code -Dpenumbra.query.groups.rowLevel=false} measures the design
   * before it.
   */
  static final boolean ROW_LEVEL = Boolean.parseBoolean(System.getProperty("penumbra.query.groups.rowLevel", "true"));

  /**
   * One operator after scaling: its sample output rows, their growth to the full data, the hash groups and
   * sampling units under it, and its subtree's operator time on the sample and scaled.
   */
  private record Op(double rows, double growth, Set<String> groups, double units, double sampleTime,
      double fullTime, double width) {

    double bytes() {
      return rows * width;
    }
  }

  /**
   * Widest row an operator's output is taken to have beyond the rows under it: DuckDB counts a dictionary vector's
   * whole dictionary in every chunk that carries it (a compressed string column's scan with a selective filter, and
   * the streaming operators above it, report 900 KB for 27 rows), so a width past both its inputs' and this is the
   * dictionary's, not the rows'.
   */
  static final double SHARED_ROW_BYTES = 64;

  /** Bytes of one column's entry in a vector: a string's header (length, prefix, pointer), the widest fixed type. */
  static final double ENTRY_BYTES = 16;

  /** Columns a scan's {@code Projections} name (a list, or one name as text). */
  static int columns(JsonNode projections) {
    if (projections.isArray()) {
      return projections.size();
    }
    return projections.asText("").isBlank() ? 0 : projections.asText().split("\n").length;
  }

  /**
   * An operator's output width per row: its measured bytes over its rows, at most the wider of its inputs' widths
   * ({@code below}) and {@link #SHARED_ROW_BYTES}.
   */
  static double width(double rows, double bytes, double below) {
    return rows > 0 ? Math.min(bytes / rows, Math.max(below, SHARED_ROW_BYTES)) : DEFAULT_ROW_BYTES;
  }

  /** What a walk over a plan's operators sums up (also PostgreSQL's, in {@link PgOperatorScaling}). */
  static final class Acc {
    double sampleTime;
    double fullTime;
    double heldSample;
    double heldFull;
    double scanBytes;
    double sampleRows;
    double scan;
    double join;
    double agg;
    double sort;
    double window;
    double bounded;
    boolean fallback;
  }

  /**
   * Scales {@code profile} (DuckDB's JSON profile of the sample run) measured as {@code sample} on a replica of
   * {@code fraction} under {@code rule}; {@code rowsPerKey} gives each hashed table's rows per sampling key.
   * Returns null when the profile has no operators (DuckDB answered from metadata).
   */
  static ScaledProfile scale(JsonNode profile, QueryProfile sample, SamplingRule rule, double fraction,
      Map<String, Double> rowsPerKey) {
    Acc a = new Acc();
    boolean any = false;
    double resultGrowth = 1;
    for (JsonNode root : profile.path("operator")) {
      Op op = walk(root, rule, fraction, rowsPerKey, a, false);
      a.sampleTime += op.sampleTime();
      a.fullTime += op.fullTime();
      resultGrowth = op.growth();
      any = true;
    }
    if (!any || a.sampleTime <= 0) {
      return null;
    }
    double cpuGrowth = a.fullTime / a.sampleTime;
    double memoryGrowth = a.heldSample > 0 ? Math.max(1.0, a.heldFull / a.heldSample) : 1.0;
    double working = Math.max(sample.peakMemoryBytes() * memoryGrowth, a.heldFull);
    double t = a.sampleTime;
    return new ScaledProfile(sample.cpuNanos() * cpuGrowth, working, a.scanBytes, cpuGrowth, memoryGrowth,
        a.scan / t, a.join / t, a.agg / t, a.sort / t, a.window / t, a.bounded / t, a.sampleRows, a.fallback, PAGE_SHARE,
        sample.rowsReturned() * resultGrowth);
  }

  /**
   * Rows in one of DuckDB's row groups: the unit its zone maps (min/max per column) describe, and so the unit a
   * dynamic filter skips.
   */
  static final double ROW_GROUP_ROWS = 122_880;

  /**
   * Whether a scan feeding a top-N through DuckDB's dynamic filter reads a bounded share of its table (true) or all
   * of it; {@code -Dpenumbra.query.topNPruning=false} measures the design before it.
   */
  static final boolean TOP_N_PRUNING =
      Boolean.parseBoolean(System.getProperty("penumbra.query.topNPruning", "true"));

  /**
   * Rows a scan under a top-N reads on the full data when DuckDB's dynamic filter prunes row groups: once the heap
   * holds N rows, a row group whose zone map holds no value better than the heap's worst is skipped. How many are
   * skipped depends on how the values lie over the row groups, which the sample cannot show: its table fits in one
   * row group, so its scan never prunes. Measured at SF 1 (docs/benchmarks.md) a lineitem top-N read 1, 4 and 10 of
   * its 49 row groups by the sort key, an orders top-N on a comment all 13. The estimate is the geometric middle of
   * one row group and the whole table ({@code fullRows}), so neither end is off by more than its square root.
   */
  static double prunedRows(double fullRows) {
    return fullRows <= ROW_GROUP_ROWS ? fullRows : Math.sqrt(fullRows * ROW_GROUP_ROWS);
  }

  private static Op walk(JsonNode n, SamplingRule rule, double fraction, Map<String, Double> rowsPerKey, Acc a,
      boolean underTopN) {
    String type = Plans.type(n);
    // A top-N's dynamic filter reaches the scan through the streaming operators between them.
    boolean feedsTopN = type.equals("TOP_N") || underTopN && (type.equals("PROJECTION") || type.equals("FILTER"));
    List<Op> kids = new ArrayList<>();
    List<JsonNode> kidNodes = new ArrayList<>();
    for (JsonNode c : n.path("children")) {
      kids.add(walk(c, rule, fraction, rowsPerKey, a, feedsTopN));
      kidNodes.add(c);
    }
    JsonNode info = n.path("extra_info");
    double rows = n.path("intermediate_rows").asDouble(0);
    double bytes = n.path("intermediate_size_bytes").asDouble(0);
    String table = info.path("Table").asText("");
    // A scan's rows come from the rows it read: per read row its bytes are the dictionary's share at most.
    double below = !table.isEmpty() ? bytes / Math.max(1, n.path("rows_scanned").asDouble(rows))
        : kids.stream().mapToDouble(Op::width).sum();
    // An operator that materializes its rows (a sort, a top-N's heap, a hash table, a window) holds them: its bytes
    // are its rows'.
    boolean materializes = type.equals("ORDER_BY") || type.equals("TOP_N") || type.contains("GROUP_BY")
        || type.equals("WINDOW");
    double width = materializes ? (rows > 0 ? bytes / rows : DEFAULT_ROW_BYTES) : width(rows, bytes, below);
    if (!table.isEmpty()) {
      // A scan's vector entry is at most 16 bytes a column (a string's header), what an uncompressed table reports;
      // beyond that its bytes are a compressed column's dictionary.
      width = Math.min(width, ENTRY_BYTES * Math.max(1, columns(info.path("Projections"))));
    }
    double time = Math.max(0, n.path("timing").asDouble(0));
    double in = kids.stream().mapToDouble(Op::rows).sum();
    Op first = kids.isEmpty() ? new Op(0, 1, Set.of(), 0, 0, 0, DEFAULT_ROW_BYTES) : kids.get(0);

    double growth;
    double cost;
    Set<String> groups = first.groups();
    double units = first.units();
    double held = 0;
    double belowTime = kids.stream().mapToDouble(Op::fullTime).sum();
    double heldGrowth = 1;

    if (!table.isEmpty()) {
      String t = DuckDbProfiler.tableName(table);
      double f = rule.fraction(t, fraction);
      double scanned = n.path("rows_scanned").asDouble(rows);
      boolean rowIds = info.path("Dynamic Filters").asText("").contains("rowid");
      growth = rowIds ? 1 : 1 / f;
      if (!rowIds && underTopN && TOP_N_PRUNING && info.path("Filters").toString().contains("Dynamic Filter")
          && scanned > 0) {
        growth = Math.min(growth, prunedRows(scanned * growth) / scanned);
      }
      cost = growth;
      groups = rule.groups(Set.of(t));
      units = rows > 0 ? Math.max(1, rows / rowsPerKey.getOrDefault(t, 1.0)) : 0;
      a.sampleRows += scanned;
      // Pages read: every scanned row's columns, not only the rows the scan's filter passes.
      a.scanBytes += scanned * width * growth;
      a.scan += time;
    } else if (Plans.isJoin(type) && kids.size() >= 2) {
      Op probe = kids.get(0);
      Op build = kids.get(1);
      String joinType = info.path("Join Type").asText("INNER");
      Set<String> shared = new HashSet<>(probe.groups());
      shared.retainAll(build.groups());
      boolean independent = shared.isEmpty() && !probe.groups().isEmpty() && !build.groups().isEmpty();
      if (joinType.startsWith("RIGHT_SEMI") || joinType.startsWith("RIGHT_ANTI")) {
        growth = build.growth();
        groups = build.groups();
        units = build.units();
      } else if (joinType.contains("SEMI") || joinType.contains("ANTI") || joinType.contains("MARK")) {
        growth = probe.growth();
      } else if (type.equals("CROSS_PRODUCT") || type.contains("NESTED_LOOP") || independent) {
        growth = probe.growth() * build.growth();
        groups = union(probe.groups(), build.groups());
      } else {
        growth = Math.max(probe.growth(), build.growth());
        groups = union(probe.groups(), build.groups());
        units = probe.growth() >= build.growth() ? probe.units() : build.units();
      }
      boolean quadratic = type.equals("CROSS_PRODUCT") || type.contains("NESTED_LOOP");
      cost = quadratic ? probe.growth() * build.growth()
          : weighted(probe.rows(), probe.growth(), build.rows(), build.growth(), rows, growth);
      double buildBytes = build.bytes();
      held = buildBytes;
      heldGrowth = build.growth();
      if (build.rows() == 0) {
        held = estimated(kidNodes.get(1)) * DEFAULT_ROW_BYTES;
        a.fallback |= a.sampleRows > 0;
      }
      a.join += time;
    } else if (type.contains("GROUP_BY")) {
      Groups g = groups(rows, in, first.units(), first.growth(), estimated(n), Keys.UNKNOWN, a);
      double groupsFull = g.full();
      growth = g.growth();
      cost = weighted(in, first.growth(), 0, 1, rows, growth);
      held = Math.max(rows, 1) * width;
      heldGrowth = rows > 0 ? growth : groupsFull;
      groups = Set.of();
      units = rows * growth;
      a.agg += time;
    } else if (type.contains("AGGREGATE")) {
      growth = 1;
      cost = first.growth();
      groups = Set.of();
      units = 1;
      a.agg += time;
    } else if (type.equals("TOP_N") || type.contains("LIMIT")) {
      double limit = info.path(type.equals("TOP_N") ? "Top" : "Limit").asDouble(Double.NaN);
      double full = in * first.growth();
      boolean cut = !Double.isNaN(limit) ? full > limit : rows < in;
      growth = cut ? (rows > 0 ? Math.min(first.growth(), Math.max(1, (Double.isNaN(limit) ? rows : limit) / rows))
          : 1) : first.growth();
      cost = type.equals("TOP_N") ? first.growth() : 1;
      if (cut && !type.equals("TOP_N")) {
        // A LIMIT over a streaming pipeline stops it early: the work under it does not grow either.
        belowTime = kids.stream().mapToDouble(Op::sampleTime).sum();
      }
      held = type.equals("TOP_N") ? Math.max(rows, 1) * width : 0;
      heldGrowth = growth;
      a.bounded += time;
    } else if (type.equals("ORDER_BY") || type.equals("WINDOW")) {
      growth = first.growth();
      cost = nlogn(in, growth);
      double inBytes = kidNodes.isEmpty() ? rows * width : first.bytes();
      held = SORTED_OWN_BYTES ? Math.max(inBytes, rows * width) : inBytes;
      heldGrowth = growth;
      if (in == 0) {
        held = estimated(n) * DEFAULT_ROW_BYTES;
        heldGrowth = 1;
        a.fallback |= a.sampleRows > 0;
      }
      if (type.equals("WINDOW")) {
        a.window += time;
      } else {
        a.sort += time;
      }
    } else {
      // Filters, projections, streaming windows, result collectors: linear in their input.
      growth = first.growth();
      cost = growth;
      if (type.equals("FILTER")) {
        a.scan += time;
      }
    }
    a.heldSample += held;
    a.heldFull += held * heldGrowth;
    double sampleBelow = kids.stream().mapToDouble(Op::sampleTime).sum();
    return new Op(rows, growth, groups, units, sampleBelow + time, belowTime + time * cost, width);
  }

  private static Set<String> union(Set<String> x, Set<String> y) {
    Set<String> u = new HashSet<>(x);
    u.addAll(y);
    return u;
  }

  /** The groups of a grouping on the full data, and their growth over the sample's {@code rows}. */
  record Groups(double full, double growth) {}

  /** What a grouping's key says about the sampling units (PostgreSQL names the keys; DuckDB's profile does not). */
  enum Keys {
    /** The key is not known: groups outnumbering the units grow with them. */
    UNKNOWN,
    /** The key holds a hashed table's sampling key: every group lies in one unit, the groups grow with the units. */
    ALIGNED,
    /** The key is known and holds no sampling key: a value may recur on the rows of many units. */
    SPREAD
  }

  /**
   * The growth law of a grouping, shared by DuckDB's and PostgreSQL's plans: {@code rows} groups on the sample
   * from {@code in} input rows over {@code units} sampling units growing by {@code unitGrowth}; {@code planGroups}
   * is the optimizer's full-data estimate, used when the sample saw no rows (marked as a fallback in {@code a}).
   */
  static Groups groups(double rows, double in, double units, double unitGrowth, double planGroups, Keys keys,
      Acc a) {
    if (rows == 0 || in == 0) {
      a.fallback |= a.sampleRows > 0;
      return new Groups(planGroups, 1);
    }
    double fullUnits = units * unitGrowth;
    if (keys == Keys.ALIGNED) {
      return new Groups(rows * unitGrowth, unitGrowth);
    }
    if (keys == Keys.SPREAD && ROW_LEVEL && units > 0 && fullUnits > units && rows > units && in > rows) {
      // More groups than units, none of them a unit's own: each value recurs on the rows of many units (a part
      // and supplier pair on many orders), so they are estimated over the rows. One value per row is linear.
      double full = DistinctEstimator.estimate(rows, in, in * unitGrowth);
      return new Groups(full, full / rows);
    }
    if (units <= 0 || fullUnits <= units || rows >= units) {
      // No sampling units to estimate over, or a group per unit or finer: the groups grow with the rows.
      return new Groups(rows * unitGrowth, unitGrowth);
    }
    // Units under the groups: rows of the input per unit stay as in the sample.
    double full = DistinctEstimator.estimate(rows, units, fullUnits);
    return new Groups(full, full / rows);
  }

  /** Work in proportion to the rows each side handles, each grown by its own factor. */
  static double weighted(double n1, double g1, double n2, double g2, double n3, double g3) {
    double total = n1 + n2 + n3;
    return total <= 0 ? Math.max(g1, Math.max(g2, g3)) : (n1 * g1 + n2 * g2 + n3 * g3) / total;
  }

  /** A sort's growth in time: n log n over the sample's n log n. */
  static double nlogn(double n, double growth) {
    if (n < 2) {
      return growth;
    }
    return growth * Math.log(n * growth) / Math.log(n);
  }

  private static double estimated(JsonNode n) {
    return Math.max(1, Plans.estimate(n));
  }
}
