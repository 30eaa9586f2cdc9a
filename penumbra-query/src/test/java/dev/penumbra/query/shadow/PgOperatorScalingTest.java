package dev.penumbra.query.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.query.shadow.SamplingRule.TableRule;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The growth laws on constructed PostgreSQL plans (EXPLAIN ANALYZE JSON), each node's time known. */
class PgOperatorScalingTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SamplingRule RULE = new SamplingRule(List.of(
      TableRule.hashed("facts", "k", "k"), TableRule.hashed("other", "j", "j"), TableRule.whole("dim", null)));

  /** A node whose total time is its own {@code ms} plus its children's (as PostgreSQL reports it). */
  private static ObjectNode node(String type, double rows, double loops, double ms, JsonNode... children) {
    ObjectNode n = JSON.createObjectNode();
    n.put("Node Type", type);
    n.put("Actual Rows", rows);
    n.put("Actual Loops", loops);
    n.put("Plan Rows", rows);
    n.put("Plan Width", 16);
    double total = ms;
    ArrayNode c = n.putArray("Plans");
    for (JsonNode k : children) {
      c.add(k);
      total += k.get("Actual Total Time").asDouble() * k.get("Actual Loops").asDouble();
    }
    n.put("Actual Total Time", total / loops);
    return n;
  }

  private static ObjectNode scan(String type, String table, double rows, double loops, double ms) {
    ObjectNode n = node(type, rows, loops, ms);
    n.put("Relation Name", table);
    n.put("Shared Hit Blocks", 10);
    return n;
  }

  private static ScaledProfile scale(JsonNode root) {
    ObjectNode top = JSON.createObjectNode();
    top.set("Plan", root);
    top.put("Execution Time", root.get("Actual Total Time").asDouble());
    return PgOperatorScaling.scale(JSON.createArrayNode().add(top), RULE, 0.1, Map.of("facts", 1.0, "other", 1.0));
  }

  @Test
  void aScanOfASampledTableGrowsByTheFractionAWholeOneNot() {
    ScaledProfile facts = scale(node("Aggregate", 1, 1, 1, scan("Seq Scan", "facts", 1_000, 1, 9)));
    assertThat(facts.cpuGrowth()).isCloseTo(10, within(1e-9));
    assertThat(facts.scanBytes()).isCloseTo(10 * 8192 * 10, within(1e-6));
    assertThat(facts.scanShare()).isCloseTo(0.9, within(1e-9));
    assertThat(facts.pageShare()).isZero();
    ScaledProfile dim = scale(node("Aggregate", 1, 1, 1, scan("Seq Scan", "dim", 1_000, 1, 9)));
    assertThat(dim.cpuGrowth()).isCloseTo(1, within(1e-9));
  }

  @Test
  void aHashTableGrowsWithItsBuildSide() {
    ObjectNode hash = node("Hash", 1_000, 1, 1, scan("Seq Scan", "facts", 1_000, 1, 4));
    hash.put("Peak Memory Usage", 100);
    ObjectNode join = node("Hash Join", 1_000, 1, 1, scan("Seq Scan", "dim", 50, 1, 4), hash);
    join.put("Join Type", "Inner");
    ScaledProfile p = scale(join);
    assertThat(p.workingBytes()).isCloseTo(100 * 1024 * 10, within(1e-6));
    assertThat(p.memoryGrowth()).isCloseTo(10, within(1e-9));
  }

  @Test
  void hashedGroupsGrowByTheEstimatedDistinctValues() {
    ObjectNode few = node("Aggregate", 4, 1, 1, scan("Seq Scan", "facts", 1_000, 1, 9));
    few.put("Strategy", "Hashed");
    few.put("Peak Memory Usage", 24);
    // 4 groups over 1,000 sampled units: all of them are already seen.
    assertThat(scale(few).memoryGrowth()).isCloseTo(1, within(1e-3));
    ObjectNode perUnit = node("Aggregate", 1_000, 1, 1, scan("Seq Scan", "facts", 1_000, 1, 9));
    perUnit.put("Strategy", "Hashed");
    perUnit.put("Peak Memory Usage", 100);
    assertThat(scale(perUnit).memoryGrowth()).isCloseTo(10, within(1e-6));
  }

  private static ObjectNode hashed(double groups, double removed, String key, double in, double perKey) {
    ObjectNode agg = node("Aggregate", groups, 1, 1, scan("Seq Scan", "facts", in, 1, 9));
    agg.put("Strategy", "Hashed");
    agg.put("Peak Memory Usage", 100);
    agg.put("Rows Removed by Filter", removed);
    agg.putArray("Group Key").add(key);
    return agg;
  }

  private static ScaledProfile scale(JsonNode root, double rowsPerKey) {
    ObjectNode top = JSON.createObjectNode();
    top.set("Plan", root);
    return PgOperatorScaling.scale(JSON.createArrayNode().add(top), RULE, 0.1, Map.of("facts", rowsPerKey));
  }

  @Test
  void groupsAHavingClauseFiltersOutStillCountAsHeld() {
    // 100 groups kept of 1,000 formed, one per row (4 rows per unit): the hash table held 1,000 groups of
    // distinct values, which grow with the rows.
    assertThat(scale(hashed(100, 900, "v", 1_000, 4), 4).memoryGrowth()).isCloseTo(10, within(1e-6));
    // Counted from the kept rows alone, 100 groups over 250 units would look almost saturated.
    assertThat(scale(hashed(100, 0, "v", 1_000, 4), 4).memoryGrowth()).isLessThan(3);
  }

  @Test
  void groupsOfTheSamplingKeyGrowWithTheUnitsOthersByTheirRepeatsOverTheRows() {
    // 500 groups from 1,000 rows over 250 units (4 rows each).
    ScaledProfile aligned = scale(hashed(500, 0, "facts.k", 1_000, 4), 4);
    assertThat(aligned.memoryGrowth()).isCloseTo(10, within(1e-6));
    ScaledProfile spread = scale(hashed(500, 0, "v", 1_000, 4), 4);
    // A value seen twice on average in a 10% sample is one of about 17 rows in the full data: some 600 groups,
    // not the 5,000 growing with the rows would give.
    double expected = DistinctEstimator.estimate(500, 1_000, 10_000) / 500;
    assertThat(spread.memoryGrowth()).isCloseTo(expected, within(1e-6));
    assertThat(expected).isBetween(1.1, 1.4);
    assertThat(PgOperatorScaling.keys(hashed(1, 0, "\"facts\".\"k\"", 1, 1), RULE))
        .isEqualTo(OperatorScaling.Keys.ALIGNED);
    assertThat(PgOperatorScaling.keys(node("Aggregate", 1, 1, 1), RULE)).isEqualTo(OperatorScaling.Keys.UNKNOWN);
  }

  @Test
  void aTopNHeapKeepsItsRowsAndALimitStopsAStreamingScan() {
    ObjectNode sort = node("Sort", 10, 1, 5, scan("Seq Scan", "facts", 1_000, 1, 5));
    sort.put("Sort Method", "top-N heapsort");
    sort.put("Sort Space Used", 25);
    ObjectNode limit = node("Limit", 10, 1, 0, sort);
    ScaledProfile top = scale(limit);
    assertThat(top.workingBytes()).isCloseTo(25 * 1024, within(1e-6));
    assertThat(top.cpuGrowth()).isCloseTo(10, within(1e-9));
    ObjectNode scan = scan("Seq Scan", "facts", 10, 1, 1);
    scan.put("Plan Rows", 1_000);
    ObjectNode stop = node("Limit", 10, 1, 0, scan);
    assertThat(scale(stop).cpuGrowth()).isCloseTo(1, within(1e-9));
  }

  @Test
  void aFullSortGrowsNLogN() {
    ObjectNode sort = node("Sort", 1_000, 1, 5, scan("Seq Scan", "facts", 1_000, 1, 5));
    sort.put("Sort Method", "quicksort");
    sort.put("Sort Space Type", "Memory");
    sort.put("Sort Space Used", 100);
    ScaledProfile p = scale(sort);
    double sortGrowth = OperatorScaling.nlogn(1_000, 10);
    assertThat(p.cpuGrowth()).isCloseTo((5 * 10 + 5 * sortGrowth) / 10, within(1e-9));
    assertThat(p.workingBytes()).isCloseTo(100 * 1024 * 10, within(1e-6));
  }

  @Test
  void aParameterizedInnerGrowsOnlyWithItsOuterWhenKeyAlignedAndWithBothWhenIndependent() {
    ObjectNode aligned = node("Nested Loop", 4_000, 1, 1, scan("Seq Scan", "facts", 1_000, 1, 4),
        scan("Index Scan", "facts", 4, 1_000, 5));
    aligned.put("Join Type", "Inner");
    // outer 4 ms x 10, inner 5 ms x 10 (more loops, the same rows per loop), the join itself 1 ms x 10.
    assertThat(scale(aligned).cpuGrowth()).isCloseTo(10, within(1e-9));
    ObjectNode independent = node("Nested Loop", 400, 1, 1, scan("Seq Scan", "facts", 1_000, 1, 4),
        scan("Index Scan", "other", 0.4, 1_000, 5));
    independent.put("Join Type", "Inner");
    // The inner finds 10x the rows per loop in the full data, on 10x the loops.
    double expected = (4 * 10 + 5 * 100 + 1 * OperatorScaling.weighted(1_000, 10, 400, 10, 400, 100)) / 10;
    assertThat(scale(independent).cpuGrowth()).isCloseTo(expected, within(1e-9));
  }

  private static ObjectNode correlated(String condition) {
    ObjectNode lookup = scan("Index Scan", "facts", 3, 1_000, 5);
    lookup.put("Index Cond", condition);
    ObjectNode sub = node("Aggregate", 1, 1_000, 1, lookup);
    sub.put("Strategy", "Plain");
    sub.put("Parent Relationship", "SubPlan");
    sub.put("Subplan Name", "SubPlan 1");
    ObjectNode outer = node("Seq Scan", 1_000, 1, 4, sub);
    outer.put("Relation Name", "facts");
    return outer;
  }

  @Test
  void aCorrelatedSubplanGrowsPerRunOnlyWhenCorrelatedOnAnotherKeyThanTheSamplingKey() {
    // Outer scan 4 ms, subplan 6 ms (lookup 5, aggregate 1) over 1,000 runs; the outer rows grow 10x.
    // On the sampling key each run finds its own unit: 10x the runs of the same work.
    assertThat(scale(correlated("(k = f1.k)")).cpuGrowth()).isCloseTo(10, within(1e-9));
    // On another column each run also finds 10x the rows: 100x the subplan.
    assertThat(scale(correlated("(v = f1.v)")).cpuGrowth()).isCloseTo((4 * 10 + 6 * 100) / 10.0, within(1e-9));
  }

  @Test
  void aPlanWithoutTimesSaysNothing() {
    assertThat(PgOperatorScaling.scale(JSON.createArrayNode().add(JSON.createObjectNode()), RULE, 0.1, Map.of()))
        .isNull();
  }

  @Test
  void aCutOffRunIsALowerBoundGrownByTheDataAndByASubplanCorrelatedOffTheSamplingKey() {
    // Cancelled after 2 s. A scan of the sampled table grows 10x; with a subplan looking the same table up by another
    // column each of the 10x outer rows finds 10x the rows: 100x. On the sampling key it finds its own unit: 10x.
    ObjectNode sub = node("Aggregate", 1, 1, 1, scan("Seq Scan", "facts", 10, 1, 1));
    sub.put("Parent Relationship", "SubPlan");
    ((ObjectNode) sub.get("Plans").get(0)).put("Filter", "(facts.x = outer.x)");
    ObjectNode top = JSON.createObjectNode();
    top.set("Plan", node("Seq Scan", 100, 1, 1, sub).put("Relation Name", "facts"));
    ScaledProfile off = PgOperatorScaling.lowerBound(JSON.createArrayNode().add(top), RULE, 0.1, 2_000_000_000L);
    assertThat(off.cutOff()).isTrue();
    assertThat(off.cpuNanos()).isCloseTo(200e9, within(1.0));
    assertThat(off.workingBytes()).as("no sort or hash in the plan").isZero();
    ObjectNode sort = node("Sort", 100, 1, 1, scan("Seq Scan", "facts", 100, 1, 1));
    ObjectNode sorted = JSON.createObjectNode();
    sorted.set("Plan", sort);
    // 100 estimated rows x 16 bytes, grown 10x with the sampled table under it.
    assertThat(PgOperatorScaling.lowerBound(sorted, RULE, 0.1, 1_000_000L).workingBytes())
        .isCloseTo(100 * 16 * 10, within(1e-6));
    ((ObjectNode) sub.get("Plans").get(0)).put("Filter", "(facts.k = outer.k)");
    assertThat(PgOperatorScaling.lowerBound(top, RULE, 0.1, 2_000_000_000L).cpuNanos()).isCloseTo(20e9, within(1.0));
    assertThat(scale(node("Aggregate", 1, 1, 1, scan("Seq Scan", "facts", 1_000, 1, 9))).cutOff()).isFalse();
  }

  @Test
  void theFullPlansCostPricedAtTheSampleRunsOwnRateGivesTheTimeOrMeetsTheOperators() throws Exception {
    JsonNode run = new ObjectMapper().readTree(
        "[{\"Plan\": {\"Total Cost\": 1000.0}, \"Execution Time\": 10.0}]");
    ScaledProfile ops = new ScaledProfile(40e6, 1e6, 0, 4, 1, 1, 0, 0, 0, 0, 0, 100, false, 0, 10);
    // 10 ms for 1,000 cost units: a full plan of 50,000 units is priced at 500 ms.
    ScaledProfile plan = PostgresSample.priced(ops, run, 50_000, "plan");
    assertThat(plan.cpuNanos()).isCloseTo(500e6, within(1.0));
    assertThat(plan.cpuGrowth()).isCloseTo(50, within(1e-9));
    assertThat(plan.workingBytes()).isEqualTo(1e6);
    ScaledProfile meet = PostgresSample.priced(ops, run, 50_000, "meet");
    assertThat(meet.cpuNanos()).isCloseTo(Math.sqrt(500e6 * 40e6), within(1.0));
    // An unknown full cost leaves the operators' time.
    assertThat(PostgresSample.priced(ops, run, 0, "plan")).isSameAs(ops);
  }
}
