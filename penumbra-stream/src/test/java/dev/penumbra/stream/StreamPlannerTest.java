package dev.penumbra.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Priority;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamPlannerTest {

  static double seasonal(int t) {
    // A daily-like cycle of 24 steps between 200 and 1800 records/s.
    return 1000 + 800 * Math.sin(2 * Math.PI * t / 24.0);
  }

  @Test
  void scalesAheadOfASeasonalRise() {
    PlannerConfig c = PlannerConfig.defaults().withLead(Duration.ofSeconds(3)).withTargetUtilisation(0.8);
    StreamPlanner planner = new StreamPlanner(c);
    planner.addPartition(0);
    double cost = 1e-3;
    int covered = 0;
    int scored = 0;
    long workerSteps = 0;
    int[] planned = new int[400];
    for (int t = 0; t < 400; t++) {
      planner.observe(0, t * 1000L, seasonal(t), cost);
      planned[t] = planner.plan(0, 0).workers();
      if (t >= 240) {
        // Workers decided at t serve from t + lead (3 steps) on: they must cover the rate then.
        int k = 3;
        double need = seasonal(t + k) * cost;
        scored++;
        covered += planned[t] >= need ? 1 : 0;
        workerSteps += planned[t];
      }
    }
    assertThat((double) covered / scored).isGreaterThanOrEqualTo(0.95);
    // ... and cheaper than holding the peak (ceil(1800 * 1e-3 / 0.8) = 3) all the time.
    assertThat((double) workerSteps / scored).isLessThan(2.9);
    assertThat(planner.errors().stats("stream/p0@1").count()).isPositive();
    assertThat(planner.errors().stats("stream/p0/workers").count()).isPositive();
    assertThat(planner.weights(0)).isNotEmpty();
  }

  @Test
  void planHasEveryHorizonAndSizesResources() {
    StreamPlanner planner = new StreamPlanner(PlannerConfig.defaults());
    planner.addPartition(0);
    for (int t = 0; t < 50; t++) {
      planner.observe(0, t * 1000L, 4000, 0.5e-3);
    }
    PartitionPlan plan = planner.plan(0, 0);
    assertThat(plan.horizons()).extracting(HorizonPlan::horizon).containsExactlyElementsOf(PlannerConfig.DEFAULT_HORIZONS);
    HorizonPlan h = plan.horizons().get(0);
    assertThat(h.ratePoint()).isCloseTo(4000, org.assertj.core.data.Offset.offset(1.0));
    // 4000 rec/s * 0.5 ms / 0.8 = 2.5 -> 3 workers, 2500 millicores, 3 x 64 MiB
    assertThat(h.workers()).isEqualTo(3);
    assertThat(h.resources().cpuMillis()).isEqualTo(2500);
    assertThat(h.resources().memoryBytes()).isEqualTo(3 * (64L << 20));
    assertThat(plan.workers()).isEqualTo(3);
    // A backlog of 10000 records adds 10000 / 5 s = 2000 rec/s to drain within the lead.
    assertThat(planner.plan(0, 10_000).workers()).isEqualTo(4);
    assertThat(plan.model()).isEqualTo("ensemble");
  }

  @Test
  void aNewPartitionBorrowsTheClosestPartitionsModelAndCost() {
    StreamPlanner planner = new StreamPlanner(PlannerConfig.defaults());
    planner.addPartition(0);
    planner.addPartition(1);
    planner.addPartition(2);
    for (int t = 0; t < 40; t++) {
      planner.observe(0, t * 1000L, 100, 2e-3);
      planner.observe(1, t * 1000L, 5000, 1e-3);
    }
    planner.observe(2, 0, 4800, Double.NaN);
    PartitionPlan cold = planner.plan(2, 0);
    assertThat(cold.model()).startsWith("borrowed:");
    assertThat(cold.lowConfidence()).isTrue();
    assertThat(cold.costSecondsPerRecord()).isCloseTo(1.5e-3, org.assertj.core.data.Offset.offset(1e-9));
    // The donor is partition 1 (5000/s), rescaled to this partition's own level (4800/s).
    assertThat(cold.horizons().get(0).ratePoint()).isCloseTo(4800, org.assertj.core.data.Offset.offset(5.0));
  }

  @Test
  void badConfigurationIsRejectedNamingFieldAndValue() {
    PlannerConfig d = PlannerConfig.defaults();
    assertThatThrownBy(() -> d.withHorizons(List.of(Duration.ofSeconds(5), Duration.ZERO)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("horizon must be > 0, was PT0S");
    assertThatThrownBy(() -> d.withHorizons(List.of(Duration.ofSeconds(-1))))
        .hasMessage("horizon must be > 0, was PT-1S");
    assertThatThrownBy(() -> d.withLead(Duration.ZERO)).hasMessage("lead must be > 0, was PT0S");
    assertThatThrownBy(() -> d.withTargetUtilisation(1.5)).hasMessage("targetUtilisation must be in (0, 1], was 1.5");
    assertThatThrownBy(() -> d.withWorkers(3, 2)).hasMessage("maxWorkers must be >= minWorkers (3), was 2");
    assertThatThrownBy(() -> d.withPriority(null)).hasMessage("priority is missing");
    assertThat(d.withPriority(Priority.CRITICAL).priority()).isEqualTo(Priority.CRITICAL);

    StreamPlanner planner = new StreamPlanner(d);
    planner.addPartition(0);
    assertThatThrownBy(() -> planner.observe(4, 0, 1, Double.NaN))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("unknown partition 4 (known: [0])");
    assertThatThrownBy(() -> planner.plan(4, 0)).hasMessageContaining("unknown partition 4");
    assertThatThrownBy(() -> planner.observe(0, 0, -1, Double.NaN))
        .hasMessage("arrivalRate must be finite and >= 0, was -1.0");
    assertThatThrownBy(() -> planner.plan(0, -5)).hasMessage("backlog must be >= 0, was -5");
  }

  @org.junit.jupiter.api.Test
  void aPlannerRebuiltFromItsHistoryPlansAsTheOriginalAndKeepsWhatItSawSince() {
    StreamPlanner before = new StreamPlanner(PlannerConfig.defaults());
    before.addPartition(0);
    for (int t = 0; t < 600; t++) {
      before.observe(0, 1000L * t, 100 + 50 * Math.sin(t / 5.0), t % 3 == 0 ? Double.NaN : 1e-3);
    }
    java.util.List<StreamPlanner.Observation> saved = before.history(0);
    org.assertj.core.api.Assertions.assertThat(saved).hasSize(StreamPlanner.HISTORY);
    org.assertj.core.api.Assertions.assertThat(saved.get(saved.size() - 1).timeMillis()).isEqualTo(599_000);

    // A restart that took the saved history back: the same observations give the same plan.
    StreamPlanner same = new StreamPlanner(PlannerConfig.defaults());
    same.addPartition(0);
    StreamPlanner reference = new StreamPlanner(PlannerConfig.defaults());
    reference.addPartition(0);
    for (StreamPlanner.Observation o : saved) {
      reference.observe(0, o.timeMillis(), o.rate(), o.cost());
    }
    same.restoreHistory(0, saved);
    org.assertj.core.api.Assertions.assertThat(same.plan(0, 0)).isEqualTo(reference.plan(0, 0));
    org.assertj.core.api.Assertions.assertThat(same.plan(0, 0).model()).doesNotStartWith("borrowed");

    // One that ticked before the history came back keeps its own observations after the earlier ones.
    StreamPlanner late = new StreamPlanner(PlannerConfig.defaults());
    late.addPartition(0);
    late.observe(0, 900_000, 123, 1e-3);
    late.restoreHistory(0, saved);
    java.util.List<StreamPlanner.Observation> h = late.history(0);
    org.assertj.core.api.Assertions.assertThat(h.get(h.size() - 1)).isEqualTo(new StreamPlanner.Observation(900_000, 123,
        1e-3));
    org.assertj.core.api.Assertions.assertThat(h.get(h.size() - 2)).isEqualTo(saved.get(saved.size() - 1));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> late.restoreHistory(0, java.util.List.of(
        new StreamPlanner.Observation(1, -5, Double.NaN)))).hasMessageContaining("arrivalRate");
    org.assertj.core.api.Assertions.assertThat(late.history(0)).as("a refused history changes nothing").isEqualTo(h);
  }

  @Test
  void theUpperBoundAtAHigherLevelIsAtLeastThePlansAndABadLevelIsNamed() {
    StreamPlanner planner = new StreamPlanner(PlannerConfig.defaults().withLead(Duration.ofSeconds(3)));
    planner.addPartition(0);
    java.util.SplittableRandom random = new java.util.SplittableRandom(3);
    for (int t = 0; t < 200; t++) {
      planner.observe(0, t * 1000L, 500 + 400 * random.nextDouble(), 1e-3);
    }
    long atPlan = planner.plan(0, 0).demand().at(Priority.STANDARD.quantile()).cpuMillis();
    assertThat(planner.upperMillis(0, 0, Priority.STANDARD.quantile())).isEqualTo(atPlan);
    assertThat(planner.upperMillis(0, 0, 0.99)).isGreaterThan(atPlan);
    assertThat(planner.upperMillis(0, 3000, 0.99)).isGreaterThan(planner.upperMillis(0, 0, 0.99));
    assertThatThrownBy(() -> planner.upperMillis(0, 0, 1)).hasMessage("level must be in (0, 1), was 1.0");
    assertThatThrownBy(() -> planner.upperMillis(5, 0, 0.9)).hasMessageContaining("unknown partition 5");
  }
}
