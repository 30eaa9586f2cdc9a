package dev.penumbra.eval.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The replay benchmark's trace set; the full run (seconds on real data) is in docs/benchmarks.md. */
class ReplayBenchTest {

  @Test
  void theTraceSetCoversTheSixDatasetsAndTheyAreAllInTheSharedData() {
    assertThat(ReplayBench.DATASETS).extracting(ReplayBench.Dataset::name).containsExactly(
        "NAB cpu", "Bitbrains cpu", "Bitbrains memory", "Alibaba cpu", "Alibaba memory", "GenAI memory");
    assertThat(ReplayBench.missing(SharedData.root())).isEmpty();
  }

  @Test
  void aDataDirectoryWithoutTheDatasetsNamesTheFirstMissingOne(@TempDir Path dir) throws Exception {
    assertThat(ReplayBench.missing(dir)).contains("nab/data/realAWSCloudwatch");
    Files.createDirectories(dir.resolve("nab/data/realAWSCloudwatch"));
    assertThat(ReplayBench.missing(dir)).contains("bitbrains-rnd");
  }

  @Test
  void aDatasetWithNoTraceOfItsResourceIsRefusedByName(@TempDir Path dir) throws Exception {
    for (ReplayBench.Dataset d : ReplayBench.DATASETS) {
      Path p = dir.resolve(d.path());
      Files.createDirectories(d.path().endsWith(".csv") || d.path().endsWith(".gz") ? p.getParent() : p);
    }
    assertThatThrownBy(() -> ReplayBench.read(dir, m -> { }))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nab/data/realAWSCloudwatch")
        .hasMessageContaining("cpu");
  }
}
