package dev.penumbra.eval.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Priority;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The task harness's options, its quantile and one small run of every mode (the full run is in benchmarks.md). */
class TaskBenchTest {

  private static TaskBench.Options options(int tasks, int concurrency) {
    return new TaskBench.Options(tasks, 0, concurrency, 10, 100, 50, Priority.STANDARD, 7, 0, 1);
  }

  @Test
  void optionsOutOfRangeNameTheFieldAndTheValue() {
    assertThatThrownBy(() -> options(0, 4)).hasMessageContaining("tasks").hasMessageContaining("was 0");
    assertThatThrownBy(() -> options(10, 300)).hasMessageContaining("concurrency").hasMessageContaining("300");
    assertThatThrownBy(() -> new TaskBench.Options(10, 0, 4, 5000, 100, 50, Priority.STANDARD, 7, 0, 1))
        .hasMessageContaining("interval").hasMessageContaining("5000");
  }

  @Test
  void aSmallRunMeasuresEveryModeOnTheSameTasks() throws Exception {
    List<String> progress = new ArrayList<>();
    TaskBench.Result r = TaskBench.run(options(9, 3), progress::add);
    assertThat(r.modes()).extracting(TaskBench.ModeResult::mode).containsExactlyElementsOf(TaskBench.MODES);
    for (TaskBench.ModeResult m : r.modes()) {
      assertThat(m.tasks()).isEqualTo(9);
      assertThat(m.failed()).isZero();
      assertThat(m.p99Ms()).isGreaterThanOrEqualTo(m.p50Ms());
    }
    assertThat(r.overheads()).isEmpty();
    assertThat(r.targets()).containsKeys("p99_latency_to_reactive", "model_step_micros")
        .doesNotContainKey("shadow_overhead_share_of_core");
    assertThat(r.modelStepNanos()).isPositive();
    assertThat(progress).anyMatch(l -> l.startsWith("penumbra done in"));
  }
}
