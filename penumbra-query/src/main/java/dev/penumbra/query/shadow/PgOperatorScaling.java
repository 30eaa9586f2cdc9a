package dev.penumbra.query.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import dev.penumbra.query.shadow.OperatorScaling.Acc;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Scales PostgreSQL's {@code EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)} of a sample run to the full data per plan
 * node, with the growth laws {@link OperatorScaling} applies to DuckDB's profile:
 *
 * <ul>
 *   <li>scans: rows and time by 1/fraction of their table (1 for a table copied whole); their pages are the
 *       node's own shared buffers (hit + read) x 8 KiB, grown the same way;
 *   <li>joins (hash, merge, nested loop): output by the larger side's growth when the sides share a hash group or
 *       one side is whole, by the product when sampled independently; semi and anti joins by their outer side; a
 *       nested loop over a parameterized inner (index scan, memoize) pays the inner's per-loop work once per outer
 *       row, any other nested loop (a rescanned or materialized inner) the product of both sides' growth;
 *   <li>hash tables ({@code Hash}, hashed aggregates, memoize): their reported peak memory grown by the rows they
 *       hold, hashed groups estimated with {@link DistinctEstimator};
 *   <li>sorts: n log n in time, the sort space (in memory or on disk) grown with the input; a top-N heapsort keeps
 *       its N rows;
 *   <li>LIMIT: output bounded by N; a limit that cuts a streaming pipeline stops it, so the pipeline does not grow;
 *   <li>correlated subplans: run once per row of the node evaluating them.
 * </ul>
 *
 * Node times are PostgreSQL's actual total time x loops minus the children's (the sample runs without parallel
 * workers, so they are one process's). Memory follows what the PostgreSQL engine measures for a run (in-memory sort
 * space and hash peak memory, summed): the pages a scan reads are not in it, so {@link ScaledProfile#pageShare} is 0.
 */
final class PgOperatorScaling {
  private PgOperatorScaling() {}

  static final double BLOCK = 8192;

  private record Op(double rows, double growth, Set<String> groups, double units, double sampleTime,
      double fullTime, boolean blocking, double planRows) {}

  /**
   * Scales {@code explain} (the array PostgreSQL returns, or its first element) of a run on a sample of
   * {@code fraction} under {@code rule}. Returns null when the plan has no node times.
   */
  static ScaledProfile scale(JsonNode explain, SamplingRule rule, double fraction, Map<String, Double> rowsPerKey) {
    JsonNode top = explain.isArray() ? explain.path(0) : explain;
    JsonNode plan = top.path("Plan");
    if (plan.isMissingNode()) {
      return null;
    }
    Acc a = new Acc();
    Op root = walk(plan, rule, fraction, rowsPerKey, a);
    a.sampleTime = root.sampleTime();
    a.fullTime = root.fullTime();
    if (a.sampleTime <= 0) {
      return null;
    }
    double executionNanos = top.path("Execution Time").asDouble(a.sampleTime) * 1e6;
    double cpuGrowth = a.fullTime / a.sampleTime;
    double memoryGrowth = a.heldSample > 0 ? Math.max(1.0, a.heldFull / a.heldSample) : 1.0;
    double t = a.sampleTime;
    return new ScaledProfile(executionNanos * cpuGrowth, a.heldFull, a.scanBytes, cpuGrowth, memoryGrowth,
        a.scan / t, a.join / t, a.agg / t, a.sort / t, a.window / t, a.bounded / t, a.sampleRows, a.fallback, 0,
        root.rows() * root.growth());
  }

  /**
   * What a sample run that was cancelled still says, from its plan without actuals ({@code explain}) and the sample's
   * time {@code ranNanos} (at least what it ran): the full query takes that long times the data's growth, the largest
   * 1/fraction over
   * the tables it scans, and times the growth of a correlated subplan's own tables when the subplan is correlated on
   * another column than the sampling key (each of the outer rows, grown, finds the rows of many units, grown too:
   * a lookup of lineitem by part key does 10x the work on 10x the calls). Memory is the optimizer's: each sort, hash
   * table, hashed aggregate and memoize node holds its estimated rows x width, grown with the tables under it (a
   * plan without them holds nothing); the operator mix is unknown.
   */
  static ScaledProfile lowerBound(JsonNode explain, SamplingRule rule, double fraction, long ranNanos) {
    JsonNode top = explain.isArray() ? explain.path(0) : explain;
    double growth = Math.max(1, tableGrowth(top.path("Plan"), rule, fraction) * subplanGrowth(top.path("Plan"), rule,
        fraction));
    double held = estimatedHeld(top.path("Plan"), rule, fraction);
    return new ScaledProfile(ranNanos * growth, held, 0, growth, 1, 0, 0, 0, 0, 0, 0, 0, true, 0, 0, true);
  }

  /** What the plan's memory-holding nodes hold by the optimizer's estimate, grown with their tables. */
  private static double estimatedHeld(JsonNode n, SamplingRule rule, double fraction) {
    String type = n.path("Node Type").asText("");
    double held = 0;
    if (type.equals("Sort") || type.equals("Incremental Sort") || type.equals("Hash") || type.equals("Memoize")
        || type.equals("Aggregate") && !n.path("Strategy").asText("Plain").equals("Plain")
        && !n.path("Strategy").asText("").equals("Sorted")) {
      held = n.path("Plan Rows").asDouble(0) * n.path("Plan Width").asDouble(OperatorScaling.DEFAULT_ROW_BYTES)
          * tableGrowth(n, rule, fraction);
    }
    for (JsonNode c : n.path("Plans")) {
      held += estimatedHeld(c, rule, fraction);
    }
    return held;
  }

  /** The largest 1/fraction over the tables scanned under {@code n} (1 when none is sampled). */
  private static double tableGrowth(JsonNode n, SamplingRule rule, double fraction) {
    double g = 1;
    String table = n.path("Relation Name").asText("").toLowerCase(Locale.ROOT);
    if (!table.isEmpty()) {
      g = 1 / rule.fraction(table, fraction);
    }
    for (JsonNode c : n.path("Plans")) {
      g = Math.max(g, tableGrowth(c, rule, fraction));
    }
    return g;
  }

  /** The largest table growth of a subplan under {@code n} correlated on another column than the sampling key. */
  private static double subplanGrowth(JsonNode n, SamplingRule rule, double fraction) {
    double g = 1;
    for (JsonNode c : n.path("Plans")) {
      if (c.path("Parent Relationship").asText("").equals("SubPlan") && !mentionsSamplingKey(c, rule)) {
        g = Math.max(g, tableGrowth(c, rule, fraction));
      }
      g = Math.max(g, subplanGrowth(c, rule, fraction));
    }
    return g;
  }

  private static Op walk(JsonNode n, SamplingRule rule, double fraction, Map<String, Double> rowsPerKey, Acc a) {
    List<Op> kids = new ArrayList<>();
    List<JsonNode> kidNodes = new ArrayList<>();
    List<Op> subplans = new ArrayList<>();
    double childrenTime = 0;
    double childBlocks = 0;
    for (JsonNode c : n.path("Plans")) {
      Op op = walk(c, rule, fraction, rowsPerKey, a);
      childrenTime += c.path("Actual Total Time").asDouble(0) * loops(c);
      childBlocks += blocks(c);
      String rel = c.path("Parent Relationship").asText("");
      if (rel.equals("SubPlan") || rel.equals("InitPlan")) {
        if (rel.equals("SubPlan") && !mentionsSamplingKey(c, rule)) {
          // Correlated on another column than the sampling key (a part key inside lineitem): each run finds
          // the rows of many units, sampled apart from the outer row's.
          op = new Op(op.rows(), op.growth(), Set.of("~" + c.path("Subplan Name").asText("subplan")), op.units(),
              op.sampleTime(), op.fullTime(), op.blocking(), op.planRows());
        }
        subplans.add(rel.equals("SubPlan") ? op : new Op(op.rows(), 1, Set.of(), 0, op.sampleTime(),
            op.sampleTime(), op.blocking(), op.planRows()));
      } else {
        kids.add(op);
        kidNodes.add(c);
      }
    }
    String type = n.path("Node Type").asText("");
    double loops = loops(n);
    double rows = n.path("Actual Rows").asDouble(0) * loops;
    double planRows = n.path("Plan Rows").asDouble(0);
    double width = Math.max(1, n.path("Plan Width").asDouble(OperatorScaling.DEFAULT_ROW_BYTES));
    // Milliseconds, this node alone: PostgreSQL's times include the children's.
    double time = Math.max(0, n.path("Actual Total Time").asDouble(0) * loops - childrenTime);
    double in = kids.stream().mapToDouble(Op::rows).sum();
    Op first = kids.isEmpty() ? new Op(0, 1, Set.of(), 0, 0, 0, false, 0) : kids.get(0);
    String table = n.path("Relation Name").asText("").toLowerCase(Locale.ROOT);
    double peakBytes = n.path("Peak Memory Usage").asDouble(0) * 1024;

    double growth;
    double cost;
    Set<String> groups = first.groups();
    double units = first.units();
    boolean blocking = kids.stream().anyMatch(Op::blocking);
    double held = 0;
    double heldGrowth = 1;
    double below = kids.stream().mapToDouble(Op::fullTime).sum();

    if (!table.isEmpty()) {
      double f = rule.fraction(table, fraction);
      growth = 1 / f;
      cost = growth;
      groups = rule.groups(Set.of(table));
      units = rows > 0 ? Math.max(1, rows / rowsPerKey.getOrDefault(table, 1.0)) : 0;
      double scanned = rows + n.path("Rows Removed by Filter").asDouble(0) * loops;
      a.sampleRows += scanned;
      a.scanBytes += Math.max(0, blocks(n) - childBlocks) * BLOCK * growth;
      a.scan += time;
    } else if (type.equals("Hash Join") || type.equals("Merge Join") || type.equals("Nested Loop")) {
      Op outer = first;
      Op inner = kids.size() >= 2 ? kids.get(1) : first;
      String joinType = n.path("Join Type").asText("Inner");
      Set<String> shared = new HashSet<>(outer.groups());
      shared.retainAll(inner.groups());
      boolean independent = shared.isEmpty() && !outer.groups().isEmpty() && !inner.groups().isEmpty();
      if (joinType.startsWith("Right Semi") || joinType.startsWith("Right Anti")) {
        growth = inner.growth();
        groups = inner.groups();
        units = inner.units();
      } else if (joinType.contains("Semi") || joinType.contains("Anti")) {
        growth = outer.growth();
      } else if (independent) {
        growth = outer.growth() * inner.growth();
        groups = union(outer.groups(), inner.groups());
      } else {
        growth = Math.max(outer.growth(), inner.growth());
        groups = union(outer.groups(), inner.groups());
        units = outer.growth() >= inner.growth() ? outer.units() : inner.units();
      }
      cost = OperatorScaling.weighted(outer.rows(), outer.growth(), inner.rows(), inner.growth(), rows, growth);
      if (type.equals("Nested Loop") && kidNodes.size() >= 2 && loops(kidNodes.get(1)) > 1) {
        // The inner runs once per outer row: per-loop work grows only when it is sampled apart from the outer.
        double perLoop = parameterized(kidNodes.get(1)) ? (independent ? inner.growth() : 1)
            : inner.growth();
        below = outer.fullTime() + inner.sampleTime() * outer.growth() * perLoop;
      }
      a.join += time;
    } else if (type.equals("Hash")) {
      growth = first.growth();
      cost = growth;
      held = peakBytes;
      heldGrowth = growth;
      if (in == 0 && a.sampleRows > 0) {
        held = Math.max(1, planRows) * width;
        a.fallback = true;
      }
      blocking = true;
      a.join += time;
    } else if (type.equals("Aggregate") || type.equals("Group") || type.equals("Unique")
        || type.equals("SetOp")) {
      String strategy = n.path("Strategy").asText(type.equals("Aggregate") ? "Plain" : "Sorted");
      if (strategy.equals("Plain")) {
        growth = 1;
        cost = first.growth();
        groups = Set.of();
        units = 1;
      } else {
        // A HAVING clause filters groups the hash table already held: they count as groups, not as output.
        double formed = rows + n.path("Rows Removed by Filter").asDouble(0) * loops;
        OperatorScaling.Groups g = OperatorScaling.groups(formed, in, first.units(), first.growth(),
            Math.max(1, planRows) * first.growth(), keys(n, rule), a);
        double groupsFull = g.full();
        growth = g.growth();
        cost = OperatorScaling.weighted(in, first.growth(), 0, 1, formed, growth);
        if (!strategy.equals("Sorted")) {
          held = formed > 0 ? peakBytes : Math.max(1, planRows) * width;
          heldGrowth = formed > 0 ? growth : groupsFull / Math.max(1, planRows);
        }
        groups = Set.of();
        units = formed * growth;
      }
      blocking = true;
      a.agg += time;
    } else if (type.equals("Limit")) {
      // A limit binds when the optimizer expects fewer rows out of it than its input would give.
      boolean cut = planRows < first.planRows();
      growth = cut ? (rows > 0 ? Math.min(first.growth(), Math.max(1, planRows / rows)) : 1) : first.growth();
      cost = 1;
      if (cut && !first.blocking()) {
        below = first.sampleTime();
      }
      a.bounded += time;
    } else if (type.equals("Sort") || type.equals("Incremental Sort")) {
      boolean topN = n.path("Sort Method").asText("").startsWith("top-N");
      double space = n.path("Sort Space Used").asDouble(0) * 1024;
      if (topN) {
        growth = 1;
        cost = first.growth();
        held = space;
        heldGrowth = 1;
        a.bounded += time;
      } else {
        growth = first.growth();
        cost = OperatorScaling.nlogn(in, growth);
        held = in > 0 ? space : Math.max(1, planRows) * width;
        heldGrowth = growth;
        a.fallback |= in == 0 && a.sampleRows > 0;
        a.sort += time;
      }
      blocking = true;
    } else if (type.equals("Memoize")) {
      growth = first.growth();
      cost = growth;
      held = peakBytes;
      heldGrowth = growth;
    } else if (type.equals("WindowAgg")) {
      growth = first.growth();
      cost = growth;
      a.window += time;
    } else {
      // Gather, Materialize, Result, Subquery Scan, Append...: their input's growth.
      growth = first.growth();
      cost = growth;
      if (type.equals("Materialize")) {
        blocking = true;
      }
    }
    for (Op s : subplans) {
      // A correlated subplan runs per row of this node's input: each run's work stays as in the sample when it
      // finds its outer row's own unit, and grows as the subplan's own operators do when sampled apart from it.
      boolean aligned = s.groups().isEmpty() || s.groups().stream().anyMatch(groups::contains);
      below += (aligned ? s.sampleTime() : s.fullTime()) * cost;
    }
    a.heldSample += held;
    a.heldFull += held * heldGrowth;
    double sampleBelow = kids.stream().mapToDouble(Op::sampleTime).sum()
        + subplans.stream().mapToDouble(Op::sampleTime).sum();
    return new Op(rows, growth, groups, units, sampleBelow + time, below + time * cost, blocking, planRows);
  }

  /**
   * What a grouping's key says about the sampling units: {@link OperatorScaling.Keys#ALIGNED} when it holds a hashed
   * table's sampling key (the order key for lineitem: the sample keeps or drops each group whole), else
   * {@link OperatorScaling.Keys#SPREAD}; PostgreSQL names the keys bare or qualified ({@code lineitem.l_orderkey}).
   */
  static OperatorScaling.Keys keys(JsonNode n, SamplingRule rule) {
    Set<String> sampling = new HashSet<>();
    for (SamplingRule.TableRule t : rule.tables()) {
      if (t.sampled()) {
        sampling.add(t.keyColumn().toLowerCase(Locale.ROOT));
      }
    }
    if (!n.path("Group Key").isArray()) {
      return OperatorScaling.Keys.UNKNOWN;
    }
    for (JsonNode k : n.path("Group Key")) {
      String name = k.asText("").toLowerCase(Locale.ROOT).replace("\"", "");
      if (sampling.contains(name.substring(name.lastIndexOf('.') + 1).strip())) {
        return OperatorScaling.Keys.ALIGNED;
      }
    }
    return OperatorScaling.Keys.SPREAD;
  }

  /**
   * Whether a subplan's conditions name a hashed table's sampling key (an EXISTS on {@code l_orderkey =
   * o_orderkey}): then each run finds its outer row's own unit, which the sample keeps or drops with it.
   */
  static boolean mentionsSamplingKey(JsonNode n, SamplingRule rule) {
    StringBuilder conditions = new StringBuilder();
    collectConditions(n, conditions);
    String text = conditions.toString().toLowerCase(Locale.ROOT);
    for (SamplingRule.TableRule t : rule.tables()) {
      if (t.sampled() && Pattern.compile("\\b" + Pattern.quote(t.keyColumn().toLowerCase(Locale.ROOT)) + "\\b")
          .matcher(text).find()) {
        return true;
      }
    }
    return false;
  }

  private static void collectConditions(JsonNode n, StringBuilder out) {
    for (String k : List.of("Index Cond", "Filter", "Recheck Cond", "Hash Cond", "Merge Cond", "Join Filter",
        "Cache Key")) {
      out.append(' ').append(n.path(k).asText(""));
    }
    for (JsonNode c : n.path("Plans")) {
      collectConditions(c, out);
    }
  }

  /** An inner looked up per outer row (index, bitmap, memoize) rather than rescanned whole. */
  private static boolean parameterized(JsonNode inner) {
    String t = inner.path("Node Type").asText("");
    return t.startsWith("Index") || t.startsWith("Bitmap") || t.equals("Memoize");
  }

  private static double loops(JsonNode n) {
    return Math.max(1, n.path("Actual Loops").asDouble(1));
  }

  private static double blocks(JsonNode n) {
    return n.path("Shared Hit Blocks").asDouble(0) + n.path("Shared Read Blocks").asDouble(0);
  }

  private static Set<String> union(Set<String> x, Set<String> y) {
    Set<String> u = new HashSet<>(x);
    u.addAll(y);
    return u;
  }
}
