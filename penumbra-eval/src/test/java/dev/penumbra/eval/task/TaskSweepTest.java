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
    return new TaskSweep.Options(loads, tasks, 10, 100, 50, Priority.STANDARD, List.of(7L), 500, 1);
  }

  @Test
  void optionsOutOfRangeNameTheFieldAndTheValue() {
    assertThatThrownBy(() -> options(List.of(), 5)).hasMessageContaining("loads");
    assertThatThrownBy(() -> options(List.of(0.5, 5.0), 5)).hasMessage("load must be in (0, 4], was 5.0");
    assertThatThrownBy(() -> options(List.of(1.0), 0)).hasMessageContaining("sweep tasks").hasMessageContaining("was 0");
    assertThatThrownBy(() -> new TaskSweep.Options(List.of(1.0), 5, 10, 100, 50, Priority.STANDARD, List.of(), 500, 1))
        .hasMessage("seeds must hold 1..50 seeds, was 0");
    assertThatThrownBy(() -> new TaskSweep.Options(List.of(1.0), 5, 10, 100, 50, Priority.STANDARD,
        List.of(7L, 7L), 500, 1)).hasMessage("seeds must differ, was [7, 7]");
    assertThatThrownBy(() -> new TaskSweep.Options(List.of(1.0), 5, 10, 100, 50, Priority.STANDARD, List.of(7L), 500,
        0)).hasMessage("rounds must be in 1..1000, was 0");
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
    TaskSweep.Result r = TaskSweep.run(new TaskSweep.Options(List.of(0.5, 1.5), 9, 10, 100, 50, Priority.STANDARD,
        List.of(7L, 8L), 500, 2), progress::add);
    assertThat(r.points()).hasSize(16);
    for (TaskSweep.Point p : r.points()) {
      assertThat(p.tasks()).isEqualTo(9);
      assertThat(p.p99Ms()).isGreaterThanOrEqualTo(p.p50Ms());
      assertThat(p.usedMemoryGibSeconds()).isPositive();
      assertThat(p.reservedMemoryGibSeconds()).isGreaterThanOrEqualTo(p.usedMemoryGibSeconds() * 0.99);
      // Where the time went is measured per task: no part exceeds the whole.
      assertThat(p.admissionP99Ms()).isBetween(0.0, p.p99Ms() * 1.0001);
      assertThat(p.memoryWaitP99Ms()).isBetween(0.0, p.p99Ms() * 1.0001);
      assertThat(p.tailAdmissionMs() + p.tailMemoryWaitMs() + p.tailRestMs()).isGreaterThanOrEqualTo(p.p50Ms());
    }
    // The bound runs on a node with room for every peak: no request can wait out the queue timeout there.
    assertThat(r.point(7, 1.5, "unconstrained").failed()).isZero();
    assertThat(r.point(8, 1.5, "unconstrained").failed()).isZero();
    // The pooled p99 is taken over both seeds' tasks: it lies between the two seeds' own p99s or above the lower.
    double pooled = r.pooledP99(1.5, "penumbra");
    assertThat(pooled).isBetween(Math.min(r.point(7, 1.5, "penumbra").p99Ms(), r.point(8, 1.5, "penumbra").p99Ms()),
        Math.max(r.point(7, 1.5, "penumbra").p99Ms(), r.point(8, 1.5, "penumbra").p99Ms()));
    assertThat(r.point(7, 1.5, "penumbra").concurrency()).isGreaterThan(r.point(7, 0.5, "penumbra").concurrency());
    // The ratio over seeds is each seed's Penumbra over its grant on request; the median lies within the spread.
    TaskSweep.Ratio p99 = r.ratio(1.5, TaskSweep.Point::p99Ms);
    assertThat(p99.perSeed()).hasSize(2);
    assertThat(p99.perSeed()[1])
        .isEqualTo(r.point(8, 1.5, "penumbra").p99Ms() / r.point(8, 1.5, "grant-on-request").p99Ms());
    assertThat(p99.median()).isBetween(p99.min(), p99.max());
    assertThat(r.targets().get("contended_p99_to_grant_on_request_at_load_1p5").value()).isEqualTo(p99.median());
    assertThat(r.ratio(1.5, "unconstrained", TaskSweep.Point::p99Ms).perSeed()[0])
        .isEqualTo(r.point(7, 1.5, "unconstrained").p99Ms() / r.point(7, 1.5, "grant-on-request").p99Ms());
    assertThat(r.targets()).containsKeys("p99_to_grant_on_request_at_load_0p5",
        "contended_p99_to_grant_on_request_at_load_1p5").doesNotContainKey("contended_p99_to_grant_on_request_at_load_0p5");
    // The warm-up pass, then one line per seed, level and mode.
    assertThat(progress).hasSize(17);
    StringWriter html = new StringWriter();
    TaskSweepHtml.write(r, html);
    assertThat(html.toString()).contains("<svg").contains("<polyline").contains("grant-on-request")
        .contains("p99 latency (ms) against load");
  }
}
