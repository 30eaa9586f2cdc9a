package dev.penumbra.query.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.query.QueryProfile;
import dev.penumbra.query.shadow.SamplingRule.TableRule;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OperatorScalingTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SamplingRule RULE = new SamplingRule(List.of(
      TableRule.hashed("facts", "k", "k"), TableRule.whole("dim", null)));
  private static final QueryProfile SAMPLE = new QueryProfile(10_000_000, 1 << 20, 12_000_000, 0, 10_000, 10, 0);

  private static ObjectNode op(String type, double rows, double bytes, double seconds, JsonNode... children) {
    ObjectNode n = JSON.createObjectNode();
    n.put("type", type);
    n.put("intermediate_rows", rows);
    n.put("intermediate_size_bytes", bytes);
    n.put("timing", seconds);
    n.putObject("extra_info");
    ArrayNode c = n.putArray("children");
    for (JsonNode k : children) {
      c.add(k);
    }
    return n;
  }

  private static ObjectNode scan(String table, double scanned, double rows) {
    ObjectNode n = op("TABLE_SCAN", rows, rows * 16, 0.004);
    n.put("rows_scanned", scanned);
    ((ObjectNode) n.get("extra_info")).put("Table", "memory.main." + table);
    return n;
  }

  private static JsonNode profile(JsonNode root) {
    ObjectNode p = JSON.createObjectNode();
    p.putArray("operator").add(root);
    return p;
  }

  private static ScaledProfile scale(JsonNode root) {
    return OperatorScaling.scale(profile(root), SAMPLE, RULE, 0.1, Map.of("facts", 1.0));
  }

  @Test
  void scansAndFiltersGrowLinearlyAndWholeTablesNotAtAll() {
    ScaledProfile facts = scale(op("FILTER", 5_000, 80_000, 0.004, scan("facts", 10_000, 10_000)));
    assertThat(facts.cpuGrowth()).isCloseTo(10, within(1e-9));
    assertThat(facts.scanBytes()).isCloseTo(1_600_000, within(1e-6));
    assertThat(facts.cpuNanos()).isCloseTo(100_000_000, within(1e-3));
    assertThat(facts.memoryGrowth()).isEqualTo(1);
    assertThat(facts.scanShare()).isEqualTo(1);
    ScaledProfile dim = scale(scan("dim", 10_000, 10_000));
    assertThat(dim.cpuGrowth()).isCloseTo(1, within(1e-9));
    // A selective scan still reads every row's pages.
    ScaledProfile selective = scale(scan("facts", 10_000, 100));
    assertThat(selective.scanBytes()).isCloseTo(10_000 * 16 * 10, within(1e-6));
  }

  @Test
  void aHashAggregateGrowsByTheEstimatedGroupsNotTheRows() {
    // 100 groups seen over 10,000 sampled units: at 10x the units there are still about 100 groups.
    ObjectNode few = op("HASH_GROUP_BY", 100, 1_600, 0.004, scan("facts", 10_000, 10_000));
    ScaledProfile f = scale(few);
    assertThat(f.memoryGrowth()).isCloseTo(1, within(0.01));
    assertThat(f.aggregateShare()).isCloseTo(0.5, within(1e-9));
    // A group per unit grows with the units.
    ScaledProfile all = scale(op("HASH_GROUP_BY", 10_000, 160_000, 0.004, scan("facts", 10_000, 10_000)));
    assertThat(all.memoryGrowth()).isCloseTo(10, within(0.01));
  }

  @Test
  void sortsGrowNLogNAndTopNIsBoundedByN() {
    ScaledProfile sort = scale(op("ORDER_BY", 10_000, 160_000, 0.004, scan("facts", 10_000, 10_000)));
    double nlogn = 10 * Math.log(100_000) / Math.log(10_000);
    assertThat(sort.cpuGrowth()).isCloseTo((10 + nlogn) / 2, within(1e-9));
    assertThat(sort.memoryGrowth()).isCloseTo(10, within(1e-9));
    ObjectNode top = op("TOP_N", 10, 160, 0.004, scan("facts", 10_000, 10_000));
    ((ObjectNode) top.get("extra_info")).put("Top", "10");
    ScaledProfile t = scale(top);
    assertThat(t.memoryGrowth()).isEqualTo(1);
    assertThat(t.boundedShare()).isCloseTo(0.5, within(1e-9));
    assertThat(t.cpuGrowth()).isCloseTo(10, within(1e-9)); // the heap still sees every row
    // A sort of strings (200 bytes a row out, 16-byte headers in): the variant counts its own output's bytes.
    ScaledProfile strings = scale(op("ORDER_BY", 10_000, 2_000_000, 0.004, scan("facts", 10_000, 10_000)));
    assertThat(strings.workingBytes()).isCloseTo(OperatorScaling.SORTED_OWN_BYTES ? 20_000_000 : 10 * (1 << 20),
        within(1e-3));
    ScaledProfile window = scale(op("WINDOW", 10_000, 160_000, 0.004, scan("facts", 10_000, 10_000)));
    assertThat(window.windowShare()).isCloseTo(0.5, within(1e-9));
    assertThat(window.sortShare()).isZero();
  }

  @Test
  void aTopNsDynamicFilterBoundsTheScanUnderItToTheMiddleOfOneRowGroupAndTheTable() {
    ObjectNode scan = scan("facts", 200_000, 200_000);
    ((ObjectNode) scan.get("extra_info")).put("Filters", "optional: Dynamic Filter (v)");
    ObjectNode top = op("TOP_N", 10, 160, 0.004, op("PROJECTION", 200_000, 1_600_000, 0.0, scan));
    ((ObjectNode) top.get("extra_info")).put("Top", "10");
    ScaledProfile t = scale(top);
    // 2,000,000 rows on the full data: sqrt(2e6 x 122,880) of them read, the scan's pages and time grow by that.
    double read = Math.sqrt(2e6 * OperatorScaling.ROW_GROUP_ROWS);
    assertThat(t.scanBytes()).isCloseTo(read * 16, within(1e-3));
    assertThat(t.cpuGrowth()).isCloseTo(read / 200_000, within(1e-9));
    // Without a top-N above it the same filter does not bound the scan; nor does a table within one row group.
    assertThat(scale(scan.deepCopy()).cpuGrowth()).isCloseTo(10, within(1e-9));
    assertThat(OperatorScaling.prunedRows(100_000)).isEqualTo(100_000);
  }

  @Test
  void aDictionaryCountedInEveryChunkIsNotTakenForTheRowsWidth() {
    // A compressed string column's selective scan: 27 rows out of 15,000 report the dictionary, 900 KB.
    ObjectNode scan = scan("facts", 15_000, 27);
    scan.put("intermediate_size_bytes", 900_000);
    // Pages read: every row read at one column's entry (16 bytes), grown with the table, not 33 KB for each row.
    assertThat(scale(scan).scanBytes()).isCloseTo(15_000 * OperatorScaling.ENTRY_BYTES * 10, within(1e-3));
    // A scan of two columns whose 15,000 rows report a dictionary in every chunk (1.2 MB): 16 bytes a column at most.
    ObjectNode wide = scan("facts", 15_000, 15_000);
    wide.put("intermediate_size_bytes", 1_200_000);
    ((ObjectNode) wide.get("extra_info")).putArray("Projections").add("k").add("comment");
    assertThat(scale(wide).scanBytes()).isCloseTo(15_000 * 32 * 10, within(1e-3));
    assertThat(OperatorScaling.columns(JSON.getNodeFactory().textNode("l_comment"))).isEqualTo(1);
    // A plain scan's own width stays as measured.
    assertThat(OperatorScaling.width(100, 1_600, 0.1)).isEqualTo(16);
    assertThat(OperatorScaling.width(27, 900_000, 60)).isEqualTo(OperatorScaling.SHARED_ROW_BYTES);
  }

  @Test
  void aLimitStopsThePipelineUnderIt() {
    ObjectNode limit = op("STREAMING_LIMIT", 100, 1_600, 0.001, scan("facts", 2_048, 2_048));
    ((ObjectNode) limit.get("extra_info")).put("Limit", "100");
    assertThat(scale(limit).cpuGrowth()).isCloseTo(1, within(1e-9));
  }

  @Test
  void joinsGrowByTheDrivingSideAndHoldTheBuildSide() {
    ObjectNode join = op("HASH_JOIN", 10_000, 240_000, 0.004, scan("facts", 10_000, 10_000), scan("dim", 500, 500));
    ((ObjectNode) join.get("extra_info")).put("Join Type", "INNER");
    ScaledProfile j = scale(join);
    assertThat(j.memoryGrowth()).isEqualTo(1); // the build side is a whole table
    assertThat(j.joinShare()).isCloseTo(1.0 / 3, within(1e-9));
    ObjectNode flipped = op("HASH_JOIN", 10_000, 240_000, 0.004, scan("dim", 500, 500), scan("facts", 10_000, 10_000));
    ((ObjectNode) flipped.get("extra_info")).put("Join Type", "INNER");
    assertThat(scale(flipped).memoryGrowth()).isCloseTo(10, within(1e-9));
  }

  @Test
  void anEmptySampleFallsBackToTheOptimizersEstimateAndSaysSo() {
    ObjectNode agg = op("HASH_GROUP_BY", 0, 0, 0.0001, scan("facts", 10_000, 0));
    ((ObjectNode) agg.get("extra_info")).put("Estimated Cardinality", "~250");
    ScaledProfile e = scale(agg);
    assertThat(e.fallback()).isTrue();
    assertThat(e.workingBytes()).isGreaterThanOrEqualTo(250 * OperatorScaling.DEFAULT_ROW_BYTES);
    assertThat(scale(op("HASH_GROUP_BY", 5, 80, 0.001, scan("facts", 10_000, 50))).fallback()).isFalse();
  }

  @Test
  void aProfileFromARealDuckDbRunOfASmallTableScalesItsAggregatesByGroups() throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement()) {
      // The sample: 10% of 200,000 keys, as a replica of fraction 0.1 would hold them.
      s.execute("CREATE TABLE facts AS SELECT range AS k, range % 50 AS g, range * 7 % 1000 AS v FROM range(200000)"
          + " WHERE hash(range, 'k') % 1000000 < 100000");
      s.execute("SET threads = 1");
      DuckDbProfiler.enableProfiling(c);
      DuckDbProfiler.Run few = DuckDbProfiler.run(c, s, "SELECT g, sum(v) FROM facts GROUP BY g", 0);
      ScaledProfile f = OperatorScaling.scale(few.json(), few.profile(), RULE, 0.1, Map.of("facts", 1.0));
      assertThat(f).isNotNull();
      assertThat(f.sampleRows()).isBetween(18_000.0, 22_000.0);
      assertThat(f.memoryGrowth()).as("50 groups stay 50").isLessThan(1.1);
      assertThat(f.cpuGrowth()).isGreaterThan(1);
      DuckDbProfiler.Run many = DuckDbProfiler.run(c, s, "SELECT k, sum(v) FROM facts GROUP BY k", 0);
      ScaledProfile m = OperatorScaling.scale(many.json(), many.profile(), RULE, 0.1, Map.of("facts", 1.0));
      assertThat(m.memoryGrowth()).as("a group per key grows with the keys").isGreaterThan(9);
      assertThat(m.aggregateShare()).isPositive();
    }
  }
}
