package dev.penumbra.eval.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Priority;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The task load sweep: options, load to concurrency, one small run of every level and mode, its HTML page. */
class TaskSweepTest {

  private static TaskSweep.Options options(List<Double> loads, int tasks) {
    return new TaskSweep.Options(loads, tasks, 10, 100, 50, Priority.STANDARD, 7, 500);
  }

  @Test
  void optionsOutOfRangeNameTheFieldAndTheValue() {
    assertThatThrownBy(() -> options(List.of(), 5)).hasMessageContaining("loads");
    assertThatThrownBy(() -> options(List.of(0.5, 5.0), 5)).hasMessage("load must be in (0, 4], was 5.0");
    assertThatThrownBy(() -> options(List.of(1.0), 0)).hasMessageContaining("sweep tasks").hasMessageContaining("was 0");
  }

  @Test
  void loadIsTheShareOfTheNodesMemoryAtTheTasksPeaks() {
    List<TaskWorkload.Plan> plans = TaskWorkload.plan(300, 7);
    int one = TaskSweep.concurrency(1.0, plans);
    // 128 MiB at a mean peak of about 19 MiB: about 7 tasks at once fit their peaks.
    assertThat(one).isBetween(5, 8);
    assertThat(TaskSweep.concurrency(2.0, plans)).isBetween(2 * one - 1, 2 * one + 1);
    assertThat(TaskSweep.concurrency(0.01, plans)).isEqualTo(1);
  }

  @Test
  void aSmallSweepMeasuresEveryModeAtEveryLevelAndPlotsIt() throws Exception {
    List<String> progress = new ArrayList<>();
    TaskSweep.Result r = TaskSweep.run(options(List.of(0.5, 1.5), 9), progress::add);
    assertThat(r.points()).hasSize(6);
    for (TaskSweep.Point p : r.points()) {
      assertThat(p.tasks()).isEqualTo(9);
      assertThat(p.p99Ms()).isGreaterThanOrEqualTo(p.p50Ms());
      assertThat(p.usedMemoryGibSeconds()).isPositive();
      assertThat(p.reservedMemoryGibSeconds()).isGreaterThanOrEqualTo(p.usedMemoryGibSeconds() * 0.99);
    }
    assertThat(r.point(1.5, "penumbra").concurrency()).isGreaterThan(r.point(0.5, "penumbra").concurrency());
    assertThat(r.targets()).containsKeys("p99_to_grant_on_request_at_load_0p5",
        "contended_p99_to_grant_on_request_at_load_1p5").doesNotContainKey("contended_p99_to_grant_on_request_at_load_0p5");
    assertThat(progress).hasSize(6);
    StringWriter html = new StringWriter();
    TaskSweepHtml.write(r, html);
    assertThat(html.toString()).contains("<svg").contains("<polyline").contains("grant-on-request")
        .contains("p99 latency (ms) against load");
  }
}
