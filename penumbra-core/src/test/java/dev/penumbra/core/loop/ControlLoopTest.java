package dev.penumbra.core.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.penumbra.core.Demand;
import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Allocator;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.ledger.Reservation.State;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ControlLoopTest {

  ManualClock clock;
  Ledger ledger;
  Allocator allocator;
  ErrorTracker feedback;
  RecordingActuator actuator;
  List<String> learned;

  /** Predicts a demand of {@code signal} millicores (p99: 1.5x), learns by recording. */
  final class Doubling implements Model<Long> {
    @Override
    public String name() {
      return "m";
    }

    @Override
    public Demand predict(Long signal) {
      return Demand.of(Resources.cpu(signal), 0.99, Resources.cpu(signal * 3 / 2), "m", false);
    }

    @Override
    public void learn(Long signal, Resources actual) {
      learned.add(signal + "->" + actual.cpuMillis());
    }
  }

  static final class RecordingActuator implements Actuator {
    final List<String> calls = new ArrayList<>();

    @Override
    public void acquire(Reservation r) {
      calls.add("acquire " + r.owner() + " " + r.amount().cpuMillis());
    }

    @Override
    public void resize(Reservation r, Resources amount) {
      calls.add("resize " + r.owner() + " " + amount.cpuMillis());
    }

    @Override
    public void release(Reservation r) {
      calls.add("release " + r.owner() + " " + r.state());
    }
  }

  @BeforeEach
  void setUp() {
    clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    ledger = Ledger.inMemory(clock);
    ledger.addNode("n", Resources.of(4000, 1 << 30));
    feedback = new ErrorTracker();
    allocator = Allocator.builder(ledger).clock(clock).feedback(feedback).preemption(true)
        .initialState(State.WARM).lease(Duration.ofMinutes(10)).build();
    actuator = new RecordingActuator();
    learned = new ArrayList<>();
  }

  ControlLoop<Long> loop(Duration grace) {
    return ControlLoop.builder("test", allocator, new Doubling()).actuator(actuator).grace(grace).margin(0)
        .clock(clock).build();
  }

  @Test
  void reservesAtThePriorityQuantileActuatesAndLearnsFromTheOutcome() {
    ControlLoop<Long> loop = loop(Duration.ofMinutes(1));
    Grant<Long> g = loop.reserve("q1", 1000L, Sla.of(Priority.CRITICAL));
    assertThat(g.placed()).isCompleted();
    assertThat(g.reservation().amount().cpuMillis()).isEqualTo(1500);
    assertThat(g.reservation().state()).isEqualTo(State.WARM);
    g.activate();
    assertThat(ledger.get(g.reservation().id()).orElseThrow().state()).isEqualTo(State.ACTIVE);
    clock.advance(Duration.ofSeconds(10));
    g.complete(Resources.cpu(900));
    assertThat(learned).containsExactly("1000->900");
    assertThat(actuator.calls).containsExactly("acquire q1 1500", "release q1 RELEASED");
    assertThat(g.ended()).isCompletedWithValueMatching(r -> r.state() == State.RELEASED);
    assertThat(ledger.nodes().get(0).used()).isEqualTo(Resources.ZERO);
    assertThat(feedback.stats(Allocator.feedbackName("m", Priority.CRITICAL, Resources.Dimension.CPU)).count())
        .isEqualTo(1);
    LoopStats s = loop.stats();
    assertThat(s.completed()).isEqualTo(1);
    assertThat(s.live()).isZero();
    // 1500 millicores held for 10 s
    assertThat(s.reserved().cpuMilliSeconds()).isCloseTo(15_000, within(1e-6));
  }

  @Test
  void adjustGrowsAnOverrunAndReclaimsUnusedHeadroomAfterGrace() {
    ControlLoop<Long> loop = loop(Duration.ofMinutes(1));
    Grant<Long> g = loop.reserve("t", 1000L, Sla.of(Priority.CRITICAL)).activate();
    g.observe(Resources.cpu(2000));
    loop.adjust();
    assertThat(g.reservation().amount().cpuMillis()).isEqualTo(2000);
    g.observe(Resources.cpu(500));
    loop.adjust();
    assertThat(g.reservation().amount().cpuMillis()).isEqualTo(2000);
    clock.advance(Duration.ofMinutes(1));
    loop.adjust();
    assertThat(g.reservation().amount().cpuMillis()).isEqualTo(500);
    assertThat(actuator.calls).containsExactly("acquire t 1500", "resize t 2000", "resize t 500");
  }

  @Test
  void aTargetIsHeldAsAFloorGrownAtOnceAndShrunkOnlyAfterGrace() {
    ControlLoop<Long> loop = loop(Duration.ofMinutes(1));
    Grant<Long> g = loop.reserve("p", 1000L, Sla.of(Priority.STANDARD)).activate();
    g.target(Demand.exact(Resources.cpu(3000), "m"));
    assertThat(g.reservation().amount().cpuMillis()).isEqualTo(3000);
    g.target(Demand.exact(Resources.cpu(1200), "m"));
    g.observe(Resources.cpu(100));
    loop.adjust();
    assertThat(g.reservation().amount().cpuMillis()).isEqualTo(3000);
    clock.advance(Duration.ofMinutes(1));
    loop.adjust();
    // down to the floor, not to the use
    assertThat(g.reservation().amount().cpuMillis()).isEqualTo(1200);
  }

  @Test
  void keepAliveRenewsLeasesAndAnUnrenewedGrantExpiresAndIsReleased() {
    ControlLoop<Long> kept = ControlLoop.builder("kept", allocator, new Doubling()).actuator(actuator)
        .keepAlive(Duration.ofMinutes(10)).clock(clock).build();
    ControlLoop<Long> left = loop(Duration.ofMinutes(1));
    Grant<Long> a = kept.reserve("a", 100L, Sla.of(Priority.BATCH));
    Grant<Long> b = left.reserve("b", 100L, Sla.of(Priority.BATCH));
    clock.advance(Duration.ofMinutes(9));
    kept.adjust();
    clock.advance(Duration.ofMinutes(2));
    ledger.expireDue();
    assertThat(a.isEnded()).isFalse();
    assertThat(b.ended()).isCompletedWithValueMatching(r -> r.state() == State.EXPIRED);
    assertThat(actuator.calls).contains("release b EXPIRED");
    assertThat(left.stats().ended()).isEqualTo(1);
  }

  @Test
  void aPreemptedGrantEndsAndItsActuatorReleases() {
    ControlLoop<Long> loop = loop(Duration.ofMinutes(1));
    Grant<Long> low = loop.reserve("low", 2600L, Sla.of(Priority.BATCH)).activate();
    Grant<Long> high = loop.reserve("high", 2000L, Sla.of(Priority.CRITICAL));
    assertThat(high.placed()).isCompleted();
    assertThat(low.ended()).isCompletedWithValueMatching(r -> r.state() == State.PREEMPTED);
    assertThat(actuator.calls).contains("release low PREEMPTED");
    assertThat(loop.stats().preempted()).isEqualTo(1);
  }

  @Test
  void whatDoesNotFitWaitsAndIsPlacedWhenCapacityFrees() {
    ControlLoop<Long> loop = loop(Duration.ofMinutes(1));
    Grant<Long> a = loop.reserve("a", 2000L, Sla.of(Priority.STANDARD));
    Grant<Long> b = loop.reserve("b", 2000L, Sla.of(Priority.STANDARD));
    assertThat(a.isPlaced()).isTrue();
    assertThat(b.isPlaced()).isFalse();
    assertThat(loop.waiting()).isEqualTo(1);
    a.release();
    assertThat(b.placed()).isCompleted();
    assertThat(loop.stats().placed()).isEqualTo(2);
  }

  @Test
  void anActuatorThatFailsToAcquireLeavesNothingReserved() {
    ControlLoop<Long> loop = ControlLoop.builder("bad", allocator, new Doubling()).clock(clock)
        .actuator(new Actuator() {
          @Override
          public void acquire(Reservation r) {
            throw new IllegalStateException("no threads");
          }
        }).build();
    Grant<Long> g = loop.reserve("x", 100L, Sla.of(Priority.STANDARD));
    assertThat(g.placed()).isCompletedExceptionally();
    assertThat(ledger.nodes().get(0).used()).isEqualTo(Resources.ZERO);
  }

  @Test
  void closeReleasesEverythingHeldAndCancelsWhatWaits() {
    ControlLoop<Long> loop = loop(Duration.ofMinutes(1));
    loop.reserve("a", 2000L, Sla.of(Priority.STANDARD));
    Grant<Long> b = loop.reserve("b", 2000L, Sla.of(Priority.STANDARD));
    loop.close();
    assertThat(b.isEnded()).isTrue();
    assertThat(ledger.nodes().get(0).used()).isEqualTo(Resources.ZERO);
  }

  @Test
  void badInputNamesTheField() {
    assertThatThrownBy(() -> ControlLoop.builder(" ", allocator, new Doubling()))
        .hasMessageContaining("loop name");
    assertThatThrownBy(() -> ControlLoop.builder("x", allocator, new Doubling()).margin(Double.NaN))
        .hasMessageContaining("margin").hasMessageContaining("NaN");
    assertThatThrownBy(() -> ControlLoop.builder("x", allocator, new Doubling()).keepAlive(Duration.ZERO))
        .hasMessageContaining("keep-alive");
    ControlLoop<Long> loop = loop(Duration.ofMinutes(1));
    Grant<Long> g = loop.reserve("a", 100L, Sla.of(Priority.STANDARD));
    assertThatThrownBy(() -> g.observe(null)).hasMessageContaining("used");
    assertThatThrownBy(() -> g.complete(null)).hasMessageContaining("actual");
  }

  @Test
  void theBaselineGuardActsOnTheCheaperRuleAndPenumbraCanWinBack() {
    // The model predicts the signal (p99 1.5x); the baseline grants 1000 whatever the work.
    ControlLoop<Long> loop = ControlLoop.builder("guarded", allocator, new Doubling()).clock(clock)
        .baseline(Baseline.fixed("grant-on-request", Resources.cpu(1000))).guard(0.1, 5, 10).build();
    // Work that really uses 1000: the baseline is exact, Penumbra (predicting 2000 -> 3000 held) wastes.
    for (int i = 0; i < 6; i++) {
      Grant<Long> g = loop.reserve("w" + i, 2000L, Sla.of(Priority.STANDARD));
      clock.advance(Duration.ofSeconds(1));
      g.complete(Resources.cpu(1000));
    }
    assertThat(loop.acting()).isEqualTo(ControlLoop.Rule.BASELINE);
    Grant<Long> next = loop.reserve("next", 2000L, Sla.of(Priority.STANDARD));
    assertThat(next.reservation().amount().cpuMillis()).isEqualTo(1000);
    assertThat(next.ownCandidate().cpuMillis()).isEqualTo(3000);
    next.release();
    // Work that uses 1400: the baseline falls short (priced 10x), Penumbra predicting 1000 -> 1500 wins back.
    for (int i = 0; i < 6; i++) {
      Grant<Long> g = loop.reserve("v" + i, 1000L, Sla.of(Priority.STANDARD));
      clock.advance(Duration.ofSeconds(1));
      g.complete(Resources.cpu(1400));
    }
    assertThat(loop.acting()).isEqualTo(ControlLoop.Rule.PENUMBRA);
    LoopStats.Guard guard = loop.stats().guard();
    assertThat(guard.switches()).isEqualTo(2);
    assertThat(guard.baseline()).isEqualTo("grant-on-request");
    assertThat(guard.scored()).isEqualTo(12);
  }

  @Test
  void costModelPricesSlackPerResourceAndShortfallByPriority() {
    CostModel c = CostModel.DEFAULT;
    // one idle core for 2 s
    assertThat(c.cost(Resources.cpu(1000), Resources.ZERO, 2, Priority.STANDARD)).isCloseTo(2, within(1e-9));
    // one missing core for 1 s: 10x standard, 100x critical, 1x batch
    assertThat(c.cost(Resources.ZERO, Resources.cpu(1000), 1, Priority.STANDARD)).isCloseTo(10, within(1e-9));
    assertThat(c.cost(Resources.ZERO, Resources.cpu(1000), 1, Priority.CRITICAL)).isCloseTo(100, within(1e-9));
    assertThat(c.cost(Resources.ZERO, Resources.cpu(1000), 1, Priority.BATCH)).isCloseTo(1, within(1e-9));
    assertThatThrownBy(() -> new CostModel(1, 1, 1, 1, 0.5, 1)).hasMessageContaining("criticalWeight");
  }
}
