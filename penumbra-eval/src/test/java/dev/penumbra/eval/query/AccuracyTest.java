package dev.penumbra.eval.query;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class AccuracyTest {
  private static QueryBench.QueryRow row(String source, String outcome, long predictedWall, long actualWall,
      long predictedMemory, long actualMemory) {
    return new QueryBench.QueryRow(source, QueryBench.HELD_OUT_SHAPES, true, "SELECT 1", "scale_up", outcome,
        predictedMemory, actualMemory, 1, 1, predictedWall, actualWall, 1, false, 1, predictedMemory,
        predictedMemory, predictedWall, predictedWall);
  }

  @Test
  void memoryBelowOneMibScoresAsOneMib() {
    // PostgreSQL measures 0 bytes for a plain scan: not an error of a million times.
    assertThat(QueryBench.memoryQError(1L << 20, 0)).isEqualTo(1.0);
    assertThat(QueryBench.memoryQError(4L << 20, 0)).isEqualTo(4.0);
    assertThat(QueryBench.memoryQError(4L << 20, 8L << 20)).isEqualTo(2.0);
    QueryBench.Accuracy a = QueryBench.accuracy(List.of(row("a", "completed", 10, 10, 1L << 20, 0)));
    assertThat(a.memoryMedian()).isEqualTo(1.0);
  }

  @Test
  void theTailListsTheWorstWallErrorsOfCompletedRunsFirst() {
    List<QueryBench.QueryRow> rows = List.of(
        row("low", "completed", 10, 50, 1, 1),
        row("high", "completed", 100, 10, 1, 1),
        row("failed", "failed_memory", 1, 1_000, 1, 1),
        row("exact", "spilled", 10, 10, 1, 1));
    assertThat(QueryBenchReport.Tail.worst(rows, QueryBench.HELD_OUT_SHAPES, 2))
        .extracting(QueryBench.QueryRow::source).containsExactly("high", "low");
  }
}
