package dev.penumbra.eval.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.SharedData;
import dev.penumbra.eval.trace.Trace;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The replay benchmark's trace set and split; the full run (seconds on real data) is in docs/benchmarks.md. */
class ReplayBenchTest {

  @Test
  void theTraceSetCoversTheEightDatasetsAndTheyAreAllInTheSharedData() {
    assertThat(ReplayBench.DATASETS).extracting(ReplayBench.Dataset::name).containsExactly(
        "NAB cpu", "Bitbrains cpu", "Bitbrains memory", "Bitbrains io", "Bitbrains network", "Alibaba cpu",
        "Alibaba memory", "GenAI memory");
    assertThat(ReplayBench.DATASETS).extracting(ReplayBench.Dataset::resource)
        .contains(Dimension.CPU, Dimension.MEMORY, Dimension.IO, Dimension.NETWORK);
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

  @Test
  void bitbrainsIsSplitByMonthAndTheOtherDatasetsAlternateBySortedName() {
    ReplayBench.Dataset bitbrains = dataset("Bitbrains io");
    Trace july = trace("bitbrains-rnd/2013-7/1.csv:io", Dimension.IO, 10, 1);
    Trace august = trace("bitbrains-rnd/2013-8/1.csv:io", Dimension.IO, 10, 2);
    assertThat(bitbrains.part(List.of(july, august), false)).containsExactly(july);
    assertThat(bitbrains.part(List.of(july, august), true)).containsExactly(august);

    ReplayBench.Dataset genai = dataset("GenAI memory");
    Trace a = trace("a", Dimension.MEMORY, 10, 3);
    Trace b = trace("b", Dimension.MEMORY, 10, 4);
    Trace c = trace("c", Dimension.MEMORY, 10, 5);
    Trace d = trace("d", Dimension.MEMORY, 10, 6);
    List<Trace> shuffled = List.of(d, b, a, c);
    assertThat(genai.part(shuffled, false)).containsExactly(a, c);
    assertThat(genai.part(shuffled, true)).containsExactly(d, b);
    Trace stranger = trace("e", Dimension.MEMORY, 10, 7);
    assertThatThrownBy(() -> genai.validation(stranger, shuffled))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("e").hasMessageContaining("GenAI memory");
  }

  @Test
  void theReportJudgesTheTargetsOnValidationOverallAndPerResource() {
    Map<ReplayBench.Dataset, List<Trace>> sets = new LinkedHashMap<>();
    int seed = 1;
    for (ReplayBench.Dataset d : ReplayBench.DATASETS) {
      String prefix = d.validationMark() == null ? d.name() + "/" : "bitbrains-rnd/2013-";
      sets.put(d, List.of(
          trace(prefix + (d.validationMark() == null ? "1" : "7/1.csv"), d.resource(), 600, seed++),
          trace(prefix + (d.validationMark() == null ? "2" : "8/1.csv"), d.resource(), 600, seed++)));
    }
    ReplayBench.Result result = ReplayBench.run(sets, 2, ProgressListener.NONE);

    assertThat(result.summaries()).containsKeys("every trace", "resolvable", "tuning", "validation",
        "validation cpu", "validation memory", "validation io", "validation network", "Bitbrains io tuning",
        "Bitbrains io validation");
    assertThat(result.summaries().get("tuning").traces()).isEqualTo(8);
    assertThat(result.summaries().get("validation").traces()).isEqualTo(8);
    assertThat(result.summaries().get("validation io").traces()).isEqualTo(1);
    assertThat(result.summaries().get("validation cpu").traces()).isEqualTo(3);

    ReplayBenchReport report = new ReplayBenchReport(result, 0.1, 1.0);
    assertThat(report.targets()).containsKeys("penumbraWinShare", "penumbraToBestBaselineMedianRatio",
        "penumbraWinShareIo", "penumbraToBestBaselineMedianRatioNetwork", "wallSeconds");
    assertThat(report.targets().get("penumbraWinShareIo").value())
        .isEqualTo(result.summaries().get("validation io").penumbraWinShare());
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    report.table(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String table = bytes.toString(StandardCharsets.UTF_8);
    assertThat(table).contains("validation network (1)").contains("target (validation io)")
        .contains("Bitbrains network");
  }

  private static ReplayBench.Dataset dataset(String name) {
    return ReplayBench.DATASETS.stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow();
  }

  /** A noisy daily cycle, 5-minute steps. */
  private static Trace trace(String name, Dimension resource, int n, long seed) {
    Random rnd = new Random(seed);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = 10 + 5 * Math.sin(2 * Math.PI * i / 288) + Math.abs(rnd.nextGaussian());
    }
    return new Trace(name, resource, "u", 0, 300_000, v);
  }
}
