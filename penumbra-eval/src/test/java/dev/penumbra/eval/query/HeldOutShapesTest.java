package dev.penumbra.eval.query;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.query.tpch.TpchDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeldOutShapesTest {

  @Test
  void everyHeldOutShapeRunsOnTpchAndNoneIsATrainingTemplate(@TempDir Path dir) throws Exception {
    List<String> shapes = QueryBench.heldOutShapes();
    assertThat(shapes).hasSizeGreaterThanOrEqualTo(30).doesNotHaveDuplicates();
    TpchDatabase db = TpchDatabase.duckdb(dir.resolve("tpch.duckdb"), 0.01, 7);
    try (Connection c = db.connect(true); Statement s = c.createStatement()) {
      for (String sql : shapes) {
        try (ResultSet r = s.executeQuery(sql)) {
          assertThat(r.getMetaData().getColumnCount()).as(sql).isPositive();
        }
      }
    }
    var training = dev.penumbra.query.workload.Workload.tpch(0.01).trainingTemplates().stream()
        .map(t -> dev.penumbra.query.predict.Fingerprint.of(t.instantiate(
            dev.penumbra.query.workload.Params.tpch(0.01), new java.util.Random(1)).sql()))
        .toList();
    assertThat(shapes.stream().map(dev.penumbra.query.predict.Fingerprint::of)).doesNotContainAnyElementsOf(training);
  }
}
