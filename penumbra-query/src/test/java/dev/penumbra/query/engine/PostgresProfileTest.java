package dev.penumbra.query.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.penumbra.query.QueryProfile;
import org.junit.jupiter.api.Test;

/** How a PostgreSQL plan with actuals becomes a run's profile: memory is what its sorts and hashes needed. */
class PostgresProfileTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode plan(String json) throws Exception {
    return JSON.readTree(json.replace('\'', '"'));
  }

  @Test
  void aSortInMemoryCountsItsSpaceAndOneOnDiskItsWorkMemPlusWhatItWrote() throws Exception {
    QueryProfile inMemory = PostgresEngine.profile(plan("{'Node Type': 'Sort', 'Sort Method': 'quicksort',"
        + " 'Sort Space Used': 30000, 'Sort Space Type': 'Memory', 'Plans': [{'Node Type': 'Seq Scan',"
        + " 'Actual Rows': 1000, 'Actual Loops': 1}]}"), 1_000_000, 10, 4096);
    assertThat(inMemory.peakMemoryBytes()).isEqualTo(30000L * 1024);
    assertThat(inMemory.spilledBytes()).isZero();

    QueryProfile onDisk = PostgresEngine.profile(plan("{'Node Type': 'Sort', 'Sort Method': 'external merge',"
        + " 'Sort Space Used': 18000, 'Sort Space Type': 'Disk', 'Temp Written Blocks': 2250,"
        + " 'Plans': [{'Node Type': 'Seq Scan', 'Actual Rows': 1000, 'Actual Loops': 1}]}"), 1_000_000, 10, 4096);
    assertThat(onDisk.peakMemoryBytes()).isEqualTo((4096L + 18000) * 1024);
    assertThat(onDisk.spilledBytes()).isEqualTo(2250L * 8192);
  }

  @Test
  void everyProcessOfAParallelSortHoldsItsOwnAndSpilledHashesCountTheirBatchesAndDisk() throws Exception {
    QueryProfile parallel = PostgresEngine.profile(plan("{'Node Type': 'Gather Merge', 'Workers Launched': 1,"
        + " 'Plans': [{'Node Type': 'Sort', 'Sort Space Used': 100, 'Sort Space Type': 'Memory',"
        + " 'Workers': [{'Worker Number': 0, 'Sort Space Used': 900, 'Sort Space Type': 'Disk'}],"
        + " 'Plans': [{'Node Type': 'Seq Scan', 'Actual Rows': 10, 'Actual Loops': 2}]}]}"), 1_000_000, 10, 500);
    assertThat(parallel.peakMemoryBytes()).isEqualTo((100L + 500 + 900) * 1024);
    assertThat(parallel.cpuNanos()).as("two processes").isEqualTo(2_000_000);

    QueryProfile hashes = PostgresEngine.profile(plan("{'Node Type': 'Hash Join', 'Plans': ["
        + "{'Node Type': 'Seq Scan', 'Actual Rows': 10, 'Actual Loops': 1},"
        + "{'Node Type': 'Hash', 'Peak Memory Usage': 1000, 'Hash Batches': 4, 'Plans': ["
        + "  {'Node Type': 'Aggregate', 'Strategy': 'Hashed', 'Peak Memory Usage': 2000, 'Disk Usage': 3000,"
        + "   'HashAgg Batches': 5, 'Plans': [{'Node Type': 'Seq Scan', 'Actual Rows': 10, 'Actual Loops': 1}]}]}]}"),
        1_000_000, 10, 1000);
    assertThat(hashes.peakMemoryBytes()).isEqualTo((1000L * 4 + 2000 + 3000) * 1024);
  }

  @Test
  void aHashTableUnderAGatherIsBuiltByEveryProcessUnlessShared() throws Exception {
    String hash = "{'Node Type': 'Hash', 'Parallel Aware': %s, 'Peak Memory Usage': 1000, 'Hash Batches': 1,"
        + " 'Plans': [{'Node Type': 'Seq Scan', 'Actual Rows': 10, 'Actual Loops': 1}]}";
    String gather = "{'Node Type': 'Gather', 'Workers Launched': 2, 'Plans': [{'Node Type': 'Hash Join', 'Plans': ["
        + "{'Node Type': 'Seq Scan', 'Actual Rows': 10, 'Actual Loops': 3}, " + hash + "]}]}";
    assertThat(PostgresEngine.profile(plan(gather.formatted("false")), 1, 1, 64).peakMemoryBytes())
        .isEqualTo(3000L * 1024);
    assertThat(PostgresEngine.profile(plan(gather.formatted("true")), 1, 1, 64).peakMemoryBytes())
        .isEqualTo(1000L * 1024);
  }
}
