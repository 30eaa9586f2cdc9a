package dev.penumbra.query;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.query.ShadowGate.Decision;
import dev.penumbra.query.ShadowGate.Kind;
import dev.penumbra.query.ShadowGate.Room;
import dev.penumbra.query.predict.QueryPredictor;
import dev.penumbra.query.shadow.PlanFeatures;
import dev.penumbra.query.shadow.ShadowResult;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The value-of-information rule on hand-made shadows: no engine, deterministic. */
class ShadowGateTest {
  static final long MS = 1_000_000;
  static final PlanFeatures PLAN = new PlanFeatures(10, 1000, 1000, 3, 0, 1, 0, 0, 1, Set.of("orders"));
  static final Room ROOMY = new Room(1L << 30, 0);

  static ShadowResult sampled(String sql, long shadowNanos) {
    QueryProfile sample = new QueryProfile(2 * MS, 1L << 20, 2 * MS, 1000, 100, 1, 0);
    return new ShadowResult(sql, 0.1, 0.1, Set.of("orders"), PLAN, sample, false, 1000, 10, 10, shadowNanos,
        shadowNanos);
  }

  static ShadowResult reused(String sql) {
    return new ShadowResult(sql, 0.1, 0.1, Set.of("orders"), PLAN, null, false, 0, 10, 10, 1000, 0, true);
  }

  static QueryProfile run(long wallNanos, long memory) {
    return new QueryProfile(wallNanos, memory, wallNanos, 10_000, 1000, 1, 0);
  }

  /** History answers from the first run, so a shape is young only before it ran. */
  QueryPredictor predictor = QueryPredictor.builder().cores(2).minHistory(1).build();

  ShadowGate gate(boolean always) {
    return new ShadowGate(predictor, 0.05, Duration.ofMillis(10), Duration.ofSeconds(2), always, true);
  }

  @Test
  void aNewShapeIsSampledWithinTheBudgetAndOnlyPlannedOnceItIsSpent() {
    ShadowGate g = gate(false);
    Decision first = g.unseen();
    assertThat(first.kind()).isEqualTo(Kind.SAMPLE);
    assertThat(first.cap()).as("the whole 10 ms credit is left").isEqualTo(Duration.ofMillis(10));
    g.spent(sampled("SELECT 1 FROM orders", 8 * MS), first);
    // 2 ms of credit left, a sample expected to cost 8 ms: the next new shape is planned only.
    Decision spent = g.unseen();
    assertThat(spent.kind()).isEqualTo(Kind.PLAN);
    assertThat(spent.reason()).startsWith("new shape, shadow budget spent").endsWith("planned only");
    g.spent(reused("SELECT 2 FROM orders"), spent);
    g.primary(1000 * MS);
    // 50 ms earned, but the bucket holds at most two samples' worth (16 ms): the cap is all of it.
    Decision again = g.unseen();
    assertThat(again.kind()).isEqualTo(Kind.SAMPLE);
    assertThat(again.cap()).isEqualTo(Duration.ofMillis(16));
    ShadowStats s = g.stats();
    assertThat(s.sampled()).isEqualTo(1);
    assertThat(s.planned()).isEqualTo(1);
    assertThat(s.share()).isEqualTo(0.008001);
    assertThat(s.budget()).isEqualTo(0.05);
  }

  @Test
  void everySampleWaitsForTheBudgetWhileTheModelIsUnfitted() {
    QueryPredictor p = QueryPredictor.builder().cores(2).minHistory(1)
        .model(dev.penumbra.ml.TreePredictor.builder().build()).build();
    ShadowGate g = new ShadowGate(p, 0.05, Duration.ofMillis(10), Duration.ofSeconds(2), false, true);
    String sql = "SELECT o_custkey, sum(o_totalprice) FROM orders WHERE o_orderkey < 10 GROUP BY 1";
    ShadowResult s = sampled(sql, 60 * MS);
    g.spent(s, new Decision(Kind.SAMPLE, null, null));
    p.learn(s, run(2000 * MS, 64L << 20), 1);
    g.primary(1000 * MS);
    assertThat(g.seen(reused(sql), ROOMY).reason()).startsWith("shadow budget spent");
    g.primary(10_000 * MS);
    assertThat(g.seen(reused(sql), ROOMY).kind()).as("a cold start samples while the budget allows")
        .isEqualTo(Kind.SAMPLE);
  }

  @Test
  void aKnownShapeIsSampledOnlyWhenItIsDearAndTheNodeIsContended() {
    ShadowGate g = gate(false);
    g.primary(10_000 * MS);
    String cheap = "SELECT count(*) FROM orders WHERE o_orderkey < 10";
    ShadowResult c = sampled(cheap, 8 * MS);
    g.spent(c, new Decision(Kind.SAMPLE, null, null));
    g.primary(10_000 * MS);
    predictor.learn(c, run(100 * MS, 4L << 20), 1);
    // An 8 ms sample for a 100 ms query is more than 5% of it.
    Decision d = g.seen(reused(cheap), new Room(0, 3));
    assertThat(d.kind()).isEqualTo(Kind.REUSE);
    assertThat(d.reason()).startsWith("cheap");

    String dear = "SELECT o_custkey, sum(o_totalprice) FROM orders WHERE o_orderkey < 10 GROUP BY 1";
    ShadowResult s = sampled(dear, 8 * MS);
    g.spent(s, new Decision(Kind.SAMPLE, null, null));
    g.primary(10_000 * MS);
    predictor.learn(s, run(2000 * MS, 64L << 20), 1);
    Decision roomy = g.seen(reused(dear), ROOMY);
    assertThat(roomy.kind()).isEqualTo(Kind.REUSE);
    assertThat(roomy.reason()).startsWith("uncontended");
    Decision tight = g.seen(reused(dear), new Room(32L << 20, 0));
    assertThat(tight.kind()).isEqualTo(Kind.SAMPLE);
    // The cap: 5% of the predicted p99 time (2 s -> 100 ms), at least twice the expected 8 ms, at most 2 s, and at
    // most what the bucket holds: two 8 ms samples' worth (all of it held for this one).
    assertThat(tight.cap()).isEqualTo(Duration.ofMillis(16));
    assertThat(tight.heldNanos()).isEqualTo(16.0 * MS);
    g.spent(sampled(dear, 8 * MS), tight);
    g.primary(10_000 * MS);
    assertThat(g.seen(reused(dear), new Room(1L << 30, 2)).kind()).as("queries waiting").isEqualTo(Kind.SAMPLE);
  }

  @Test
  void aSettledShapeTakesTheFastPathEvenWhenEverythingSamples() {
    ShadowGate g = gate(true);
    String sql = "SELECT count(*) FROM orders WHERE o_orderkey < 10";
    for (int i = 0; i < 6; i++) {
      predictor.learn(sampled(sql, MS), run(100 * MS, 4L << 20), 1);
    }
    Decision d = g.seen(reused(sql), new Room(0, 5));
    assertThat(d.kind()).isEqualTo(Kind.REUSE);
    assertThat(d.reason()).startsWith("fingerprint settled");
    String other = "SELECT count(*) FROM lineitem WHERE l_orderkey < 10";
    predictor.learn(sampled(other, MS), run(100 * MS, 4L << 20), 1);
    assertThat(g.seen(reused(other), ROOMY).kind()).as("always samples what is not settled").isEqualTo(Kind.SAMPLE);
  }

  @Test
  void aYoungShapeIsSampledFirstWithinTheBudget() {
    QueryPredictor p = QueryPredictor.builder().cores(2).build();
    ShadowGate g = new ShadowGate(p, 0.05, Duration.ofMillis(10), Duration.ofSeconds(2), false, true);
    g.primary(10_000 * MS);
    String cheap = "SELECT count(*) FROM orders WHERE o_orderkey < 10";
    ShadowResult c = sampled(cheap, 8 * MS);
    g.spent(c, new Decision(Kind.SAMPLE, null, null));
    g.primary(10_000 * MS);
    p.learn(c, run(100 * MS, 4L << 20), 1);
    // One run of five the history needs: sampled although a sample costs 8% of the query, capped at 16 ms.
    Decision d = g.seen(reused(cheap), ROOMY);
    assertThat(d.kind()).isEqualTo(Kind.SAMPLE);
    assertThat(d.cap()).isEqualTo(Duration.ofMillis(16));
    g.spent(sampled(cheap, 8 * MS), d);
    g.primary(10_000 * MS);
    for (int i = 0; i < 4; i++) {
      p.learn(c, run(100 * MS, 4L << 20), 1);
    }
    assertThat(g.seen(reused(cheap), ROOMY).reason()).startsWith("cheap");
  }

  @Test
  void anIdleNodeSamplesAYoungShapeAfterItsQueryAndSizesTheQueryAsTheBaseline() {
    QueryPredictor p = QueryPredictor.builder().cores(2).build();
    ShadowGate g = new ShadowGate(p, 0.05, Duration.ofMillis(10), Duration.ofSeconds(2), false, true);
    g.primary(10_000 * MS);
    String sql = "SELECT count(*) FROM orders WHERE o_orderkey < 10";
    ShadowResult c = sampled(sql, 8 * MS);
    g.spent(c, new Decision(Kind.SAMPLE, null, null));
    g.primary(10_000 * MS);
    p.learn(c, run(100 * MS, 4L << 20), 1);
    Decision idle = g.seen(reused(sql), new Room(1L << 30, 0, true));
    assertThat(idle.kind()).as("no sample before the query").isEqualTo(Kind.REUSE);
    assertThat(idle.after()).as("the sample runs after it").isTrue();
    assertThat(idle.asBaseline()).isTrue();
    assertThat(idle.reason()).isEqualTo(ShadowGate.AFTER);
    assertThat(idle.heldNanos()).as("its cap held from the budget: twice its expected cost").isEqualTo(16.0 * MS);
    assertThat(idle.cap().toNanos()).isEqualTo(16 * MS);
    assertThat(idle.cap()).isNotNull();
    g.spent(reused(sql), idle);
    // The sample made after the query settles the hold with what it cost.
    g.sampledAfter(dev.penumbra.query.predict.Fingerprint.of(sql), sampled(sql, 6 * MS), idle.heldNanos());
    assertThat(g.stats().sampled()).isEqualTo(2);
    assertThat(g.stats().shadowNanos()).as("8 ms before, 1 us reusing, 6 ms after").isEqualTo(14 * MS + 1000);
    assertThat(g.afterCounts()).containsExactly(1, 0);
    // One that found no idle moment gives its hold back.
    Decision again = g.seen(reused(sql), new Room(1L << 30, 0, true));
    assertThat(again.after()).isTrue();
    g.spent(reused(sql), again);
    g.droppedAfter(dev.penumbra.query.predict.Fingerprint.of(sql), again.heldNanos());
    assertThat(g.afterCounts()).containsExactly(1, 1);
    // Its sample never ran: the shape's next query on an idle node is sampled before it, so the shape still teaches.
    Decision owed = g.seen(reused(sql), new Room(1L << 30, 0, true));
    assertThat(owed.kind()).isEqualTo(Kind.SAMPLE);
    g.spent(sampled(sql, 6 * MS), owed);
    g.primary(10_000 * MS);
    Decision later = g.seen(reused(sql), new Room(1L << 30, 0, true));
    assertThat(later.after()).as("then after again").isTrue();
    g.spent(reused(sql), later);
    g.sampledAfter(dev.penumbra.query.predict.Fingerprint.of(sql), sampled(sql, 6 * MS), later.heldNanos());
    g.primary(10_000 * MS);
    // The same shape with a query waiting (not idle): the sample runs before the query again.
    Decision busy = g.seen(reused(sql), new Room(1L << 30, 1, false));
    assertThat(busy.kind()).isEqualTo(Kind.SAMPLE);
    assertThat(busy.after()).isFalse();
    assertThat(busy.asBaseline()).isFalse();
    g.spent(sampled(sql, 6 * MS), busy);
    g.primary(10_000 * MS);
    // No room above the prediction's p99: the node is not idle for this query, its sample runs before it.
    assertThat(g.seen(reused(sql), new Room(1L << 20, 0, true)).kind()).isEqualTo(Kind.SAMPLE);
  }

  @Test
  void anIdleNodeWhoseBudgetIsSpentSizesAYoungShapeAsTheBaselineWithoutASample() {
    QueryPredictor p = QueryPredictor.builder().cores(2).build();
    ShadowGate g = new ShadowGate(p, 0.05, Duration.ofMillis(10), Duration.ofSeconds(2), false, true);
    String sql = "SELECT count(*) FROM orders WHERE o_orderkey < 10";
    ShadowResult c = sampled(sql, 40 * MS);
    g.spent(c, new Decision(Kind.SAMPLE, null, null));
    p.learn(c, run(100 * MS, 4L << 20), 1);
    Decision idle = g.seen(reused(sql), new Room(1L << 30, 0, true));
    assertThat(idle.kind()).isEqualTo(Kind.REUSE);
    assertThat(idle.after()).isFalse();
    assertThat(idle.asBaseline()).isTrue();
    assertThat(idle.reason()).isEqualTo(ShadowGate.IDLE);
    assertThat(idle.heldNanos()).as("nothing taken from the budget").isZero();
  }

  @Test
  void aSampleMadeAfterItsRunScoresTheSampledTiersAndIsKeptWithTheRun() {
    QueryPredictor p = QueryPredictor.builder().cores(2).build();
    String sql = "SELECT count(*) FROM orders WHERE o_orderkey < 10";
    String fp = dev.penumbra.query.predict.Fingerprint.of(sql);
    p.learn(sampled(sql, 8 * MS), run(100 * MS, 4L << 20), 1);
    QueryProfile second = run(120 * MS, 5L << 20);
    p.learn(fp, reused(sql), second, 1, null);
    assertThat(p.export().get(1).shadow().skipped()).as("learned with the plan it ran on").isTrue();
    var scaleUp = dev.penumbra.query.predict.QueryPrediction.Tier.SCALE_UP;
    var memory = QueryPredictor.Metric.MEMORY;
    int scored = p.errors(scaleUp, memory).count();
    p.learnSample(fp, sampled(sql, 6 * MS), second, 1);
    assertThat(p.historySize(fp)).as("no run added").isEqualTo(2);
    assertThat(p.export().get(1).shadow().sample()).as("the run now carries its sample").isNotNull();
    assertThat(p.errors(scaleUp, memory).count()).isEqualTo(scored + 1);
    // A sample cut off by an arriving query teaches nothing.
    ShadowResult cut = new ShadowResult(sql, 0.1, 0.1, Set.of("orders"), PLAN, null, true, 0, 10, 10, 3 * MS, 0);
    p.learnSample(fp, cut, second, 1);
    assertThat(p.errors(scaleUp, memory).count()).isEqualTo(scored + 1);
  }

  @Test
  void reasonsAreWrittenWithOneDecimalWithoutAFormatter() {
    assertThat(ShadowGate.tenths(0)).isEqualTo("0.0");
    assertThat(ShadowGate.tenths(59.96)).isEqualTo("60.0");
    assertThat(ShadowGate.tenths(1.25)).isEqualTo("1.3");
    assertThat(ShadowGate.tenths(-0.5)).isEqualTo("-0.5");
    assertThat(ShadowGate.tenths(-0.04)).isEqualTo("0.0");
    assertThat(ShadowGate.tenths(1234.5)).isEqualTo("1234.5");
  }

  @Test
  void queriesArrivingTogetherCannotSpendTheSameBudget() {
    ShadowGate g = gate(false);
    // No sample ran yet: the first is cut off at all the 10 ms credit holds, and holds it as it is decided.
    java.util.List<Decision> ds = java.util.stream.IntStream.range(0, 6).mapToObj(i -> g.unseen()).toList();
    assertThat(ds.stream().filter(d -> d.kind() == Kind.SAMPLE).count()).isEqualTo(1);
    assertThat(ds.stream().mapToDouble(Decision::heldNanos).sum()).isEqualTo(10.0 * MS);
  }

  @Test
  void savedBudgetBuysAtMostTwoSamples() {
    ShadowGate g = gate(false);
    g.spent(sampled("SELECT 1 FROM orders", 8 * MS), new Decision(Kind.SAMPLE, null, null));
    g.primary(60_000 * MS);
    // 3 s earned over a long quiet stretch, but the bucket keeps two 8 ms samples' worth (16 ms), beside what is
    // left of the credit (2 ms, faded by one run).
    assertThat(g.unseen().cap().toMillis()).isEqualTo(17);
    g.spent(sampled("SELECT 2 FROM orders", 8 * MS), new Decision(Kind.SAMPLE, null, null));
    g.spent(sampled("SELECT 3 FROM orders", 8 * MS), new Decision(Kind.SAMPLE, null, null));
    assertThat(g.unseen().kind()).isEqualTo(Kind.PLAN);
  }

  @Test
  void theBudgetStopsSamplingOnceSpent() {
    ShadowGate g = gate(false);
    String dear = "SELECT o_custkey, sum(o_totalprice) FROM orders WHERE o_orderkey < 10 GROUP BY 1";
    ShadowResult s = sampled(dear, 60 * MS);
    g.spent(s, new Decision(Kind.SAMPLE, null, null));
    predictor.learn(s, run(2000 * MS, 64L << 20), 1);
    g.primary(1000 * MS);
    // 60 ms spent against a 10 ms credit, 50 ms earned: the bucket is empty, a 60 ms sample would overdraw it.
    Decision d = g.seen(reused(dear), new Room(0, 4));
    assertThat(d.kind()).isEqualTo(Kind.REUSE);
    assertThat(d.reason()).isEqualTo("shadow budget spent: 0.0 ms left, a sample costs ~60.0 ms (budget 5.0% of primary"
        + " time, 5.7% spent recently)");
    g.spent(reused(dear), new Decision(Kind.REUSE, null, null));
    assertThat(g.stats().reused()).isEqualTo(1);
  }
  /** A gate as the gateway builds it by default: no cold-start credit. */
  ShadowGate coldGate(QueryPredictor p) {
    return new ShadowGate(p, 0.05, Duration.ZERO, Duration.ofSeconds(2), false, true);
  }

  @Test
  void aColdStartPlansNewShapesUntilPrimaryTimePaysForTheirSample() {
    ShadowGate g = coldGate(predictor);
    Decision first = g.unseen();
    assertThat(first.kind()).as("nothing earned yet: planned only").isEqualTo(Kind.PLAN);
    assertThat(first.reason()).startsWith("new shape, shadow budget spent: 0.0 ms left, a sample costs ~50.0 ms");
    g.spent(planned("SELECT 1 FROM orders", 2 * MS), first);
    g.primary(1000 * MS);
    // 50 ms earned, 2 ms of it paid for the plan: short of a first sample's expected 50 ms.
    assertThat(g.unseen().kind()).isEqualTo(Kind.PLAN);
    g.primary(100 * MS);
    Decision sample = g.unseen();
    assertThat(sample.kind()).isEqualTo(Kind.SAMPLE);
    // Cut off at what the bucket holds (50 + 5 - 2 ms), all of it held for the sample.
    assertThat(sample.cap().toNanos()).isEqualTo(53 * MS);
    assertThat(sample.heldNanos()).isEqualTo(sample.cap().toNanos());
    assertThat(g.unseen().kind()).as("a query deciding meanwhile finds the bucket held").isEqualTo(Kind.PLAN);
    // The run was cut off at its cap, but its plan and scaling took 10 ms more: the next caps leave room for them.
    g.spent(cutOff("SELECT 3 FROM orders", 63 * MS), sample);
    g.primary(4000 * MS);
    Decision next = g.unseen();
    assertThat(next.kind()).isEqualTo(Kind.SAMPLE);
    // The bucket holds two of the dearest recent sample (63 ms): all of it held, the run cut off 10 ms before.
    assertThat(next.heldNanos()).isEqualTo(126.0 * MS);
    assertThat(next.cap().toNanos()).isEqualTo(116 * MS);
  }

  @Test
  void fromAColdStartTheSharePaysForThePlansFirstThenStaysWithinTheBudgetWhileSamplesGoOn() {
    QueryPredictor p = QueryPredictor.builder().cores(2).build();
    ShadowGate g = coldGate(p);
    java.util.Random random = new java.util.Random(11);
    long plansNanos = 0;
    java.util.Set<Integer> lateSampled = new java.util.TreeSet<>();
    int shapes = 30;
    for (int i = 0; i < 600; i++) {
      // 30 shapes at first; from query 400 on, five more come in.
      int shape = i < shapes ? i : i < 400 ? random.nextInt(shapes) : random.nextInt(shapes + 5);
      String sql = "SELECT count(*) AS c" + shape + " FROM orders WHERE o_orderkey < " + random.nextInt(1000);
      long primary = (20 + random.nextInt(200)) * MS;
      Decision d = p.historySize(dev.penumbra.query.predict.Fingerprint.of(sql)) == 0 ? g.unseen()
          : g.seen(reused(sql), new Room(0, 1));
      ShadowResult s;
      if (d.kind() == Kind.SAMPLE) {
        if (shape >= shapes) {
          lateSampled.add(shape);
        }
        // A sample that would run 80-160 ms: it runs to its cap when that is shorter.
        long wants = (80 + random.nextInt(80)) * MS;
        // ... plus 5 ms for its plan and scaling, which no cap cuts.
        s = wants > d.cap().toNanos() ? cutOff(sql, d.cap().toNanos() + 5 * MS) : sampled(sql, wants + 5 * MS);
      } else if (d.kind() == Kind.PLAN) {
        s = planned(sql, 5 * MS);
        plansNanos += 5 * MS;
      } else {
        s = reused(sql);
      }
      g.spent(s, d);
      p.learn(s, run(primary, 4L << 20), 1);
      g.primary(primary);
      ShadowStats st = g.stats();
      // Within the budget at every query, but for the plans of new shapes (which must run) not yet paid back.
      assertThat((double) st.shadowNanos()).as("query %d", i)
          .isLessThanOrEqualTo(0.05 * st.primaryNanos() + Math.max(0, plansNanos - 0.05 * st.primaryNanos()) + 6e6);
      if (i >= 100) {
        assertThat(st.share()).as("query %d", i).isLessThanOrEqualTo(0.05);
      }
    }
    ShadowStats st = g.stats();
    assertThat(st.planned()).as("the first 30 only planned, a late one sampled when the bucket held it")
        .isBetween((long) shapes, shapes + 5L);
    assertThat(st.sampled()).as("samples go on within the budget").isGreaterThan(10);
    assertThat(lateSampled).as("the shapes that came late are sampled too").containsExactly(30, 31, 32, 33, 34);
    assertThat(st.share()).isBetween(0.02, 0.05);
  }

  static ShadowResult planned(String sql, long nanos) {
    return new ShadowResult(sql, 0.1, 0.1, Set.of("orders"), PLAN, null, false, 0, 10, 10, nanos, nanos, true);
  }

  static ShadowResult cutOff(String sql, long nanos) {
    return new ShadowResult(sql, 0.1, 0.1, Set.of("orders"), PLAN, null, true, 1000, 10, 10, nanos, nanos);
  }
}
