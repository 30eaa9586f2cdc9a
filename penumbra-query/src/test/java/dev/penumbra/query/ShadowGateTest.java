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
  void aNewShapeIsAlwaysSampledAndCounted() {
    ShadowGate g = gate(false);
    assertThat(g.unseen().kind()).isEqualTo(Kind.SAMPLE);
    g.spent(sampled("SELECT 1 FROM orders", 8 * MS), Kind.SAMPLE);
    // Past the 10 ms credit with no primary time yet: a new shape is still sampled (its prediction would be blind).
    g.spent(sampled("SELECT 2 FROM orders", 8 * MS), Kind.SAMPLE);
    assertThat(g.unseen().cap()).isEqualTo(Duration.ofSeconds(2));
    g.primary(1000 * MS);
    ShadowStats s = g.stats();
    assertThat(s.sampled()).isEqualTo(2);
    assertThat(s.share()).isEqualTo(0.016);
    assertThat(s.budget()).isEqualTo(0.05);
  }

  @Test
  void aKnownShapeIsSampledOnlyWhenItIsDearAndTheNodeIsContended() {
    ShadowGate g = gate(false);
    g.primary(10_000 * MS);
    String cheap = "SELECT count(*) FROM orders WHERE o_orderkey < 10";
    ShadowResult c = sampled(cheap, 8 * MS);
    g.spent(c, Kind.SAMPLE);
    predictor.learn(c, run(100 * MS, 4L << 20), 1);
    // An 8 ms sample for a 100 ms query is more than 5% of it.
    Decision d = g.seen(reused(cheap), new Room(0, 3));
    assertThat(d.kind()).isEqualTo(Kind.REUSE);
    assertThat(d.reason()).startsWith("cheap");

    String dear = "SELECT o_custkey, sum(o_totalprice) FROM orders WHERE o_orderkey < 10 GROUP BY 1";
    ShadowResult s = sampled(dear, 8 * MS);
    g.spent(s, Kind.SAMPLE);
    predictor.learn(s, run(2000 * MS, 64L << 20), 1);
    Decision roomy = g.seen(reused(dear), ROOMY);
    assertThat(roomy.kind()).isEqualTo(Kind.REUSE);
    assertThat(roomy.reason()).startsWith("uncontended");
    Decision tight = g.seen(reused(dear), new Room(32L << 20, 0));
    assertThat(tight.kind()).isEqualTo(Kind.SAMPLE);
    // The cap: 5% of the predicted p99 time (2 s -> 100 ms), at least twice the expected 8 ms, at most 2 s.
    assertThat(tight.cap()).isEqualTo(Duration.ofMillis(100));
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
    g.spent(c, Kind.SAMPLE);
    p.learn(c, run(100 * MS, 4L << 20), 1);
    // One run of five the history needs: sampled although a sample costs 8% of the query, capped at 16 ms.
    Decision d = g.seen(reused(cheap), ROOMY);
    assertThat(d.kind()).isEqualTo(Kind.SAMPLE);
    assertThat(d.cap()).isEqualTo(Duration.ofMillis(16));
    for (int i = 0; i < 4; i++) {
      p.learn(c, run(100 * MS, 4L << 20), 1);
    }
    assertThat(g.seen(reused(cheap), ROOMY).reason()).startsWith("cheap");
  }

  @Test
  void theBudgetStopsSamplingOnceSpent() {
    ShadowGate g = gate(false);
    String dear = "SELECT o_custkey, sum(o_totalprice) FROM orders WHERE o_orderkey < 10 GROUP BY 1";
    ShadowResult s = sampled(dear, 60 * MS);
    g.spent(s, Kind.SAMPLE);
    predictor.learn(s, run(2000 * MS, 64L << 20), 1);
    g.primary(1000 * MS);
    // 60 ms spent, 50 ms + 10 ms earned: the next 60 ms sample would exceed the budget.
    Decision d = g.seen(reused(dear), new Room(0, 4));
    assertThat(d.kind()).isEqualTo(Kind.REUSE);
    assertThat(d.reason()).startsWith("shadow budget spent (5.9% of recent primary time, budget 5.0%)");
    g.spent(reused(dear), Kind.REUSE);
    assertThat(g.stats().reused()).isEqualTo(1);
  }
}
