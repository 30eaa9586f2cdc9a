package dev.penumbra.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.loop.ControlLoop;
import dev.penumbra.core.loop.LoopStats;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The stream's control loop on a scripted target: the shadow's processing fails on purpose, so no CPU is
 * measured and the planner uses its configured cost (1 ms per record) — every figure is deterministic.
 */
class StreamLoopTest {

  static final class FakeTarget implements ScalingTarget {
    final int[] workers;
    final long[] backlog;
    final long[] busy;
    final long[] processed;

    FakeTarget(int partitions, boolean knowsBusy) {
      workers = new int[partitions];
      backlog = new long[partitions];
      busy = new long[partitions];
      processed = new long[partitions];
      java.util.Arrays.fill(workers, 1);
      java.util.Arrays.fill(busy, knowsBusy ? 0 : -1);
      java.util.Arrays.fill(processed, -1);
    }

    @Override
    public int partitions() {
      return workers.length;
    }

    @Override
    public int workers(int partition) {
      return workers[partition];
    }

    @Override
    public void scale(int partition, int n) {
      workers[partition] = n;
    }

    @Override
    public long backlog(int partition) {
      return backlog[partition];
    }

    @Override
    public long busyNanos(int partition) {
      return busy[partition];
    }

    @Override
    public long processed(int partition) {
      return processed[partition];
    }
  }

  final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
  final Ledger ledger = Ledger.inMemory(clock);
  final Sampling sampling = Sampling.everyNth(0.01);
  final PlannerConfig config = PlannerConfig.defaults().withLead(Duration.ofSeconds(2)).withTargetUtilisation(1.0)
      .withWorkers(1, 16);

  StreamLoopTest() {
    ledger.addNode("n1", Resources.of(32_000, 64L << 30));
  }

  /** One interval: {@code rate} records per second offered to the shadow at the sampling rate, then a tick. */
  void interval(StreamController c, Shadow shadow, int partition, int rate) throws InterruptedException {
    for (int i = 0; i < rate * sampling.rate(); i++) {
      shadow.offer(new StreamRecord(partition, "k" + i, null));
    }
    clock.advance(Duration.ofSeconds(1));
    c.tick();
  }

  static Shadow failingShadow() {
    return Shadow.start("s", r -> {
      throw new IllegalStateException("not measured on purpose");
    }, 100_000);
  }

  @Test
  void scalesUpAtOnceAndDownOnlyAfterTheGracePeriod() throws Exception {
    FakeTarget target = new FakeTarget(1, false);
    try (Shadow shadow = failingShadow();
        StreamController c = StreamController.builder(new StreamPlanner(config), target, shadow, sampling)
            .clock(clock).ledger(ledger, "n1").grace(Duration.ofSeconds(10)).build()) {
      for (int t = 0; t < 20; t++) {
        interval(c, shadow, 0, 4000);
      }
      // 4000 records/s x 1 ms = 4 cores.
      int high = target.workers(0);
      assertThat(high).isGreaterThanOrEqualTo(4);
      long scalingsAtHigh = c.scalings();
      for (int t = 0; t < 5; t++) {
        interval(c, shadow, 0, 500);
      }
      // The forecast fell, but the headroom has not been unused for the grace period yet.
      assertThat(target.workers(0)).isEqualTo(high);
      for (int t = 0; t < 40; t++) {
        interval(c, shadow, 0, 500);
      }
      assertThat(target.workers(0)).isLessThan(high).isGreaterThanOrEqualTo(1);
      // One step down per grace period at most, not a change every tick.
      assertThat(c.scalings() - scalingsAtHigh).isBetween(1L, 5L);
      Reservation r = c.reserved(0).orElseThrow();
      assertThat(target.workers(0)).isEqualTo((int) Math.max(1, (r.amount().cpuMillis() + 999) / 1000));
      // Kept alive: the lease runs three intervals from the last tick.
      assertThat(r.leaseExpiry()).isEqualTo(clock.instant().plus(Duration.ofSeconds(3)));
    }
  }

  @Test
  void thePrimarysBusyTimePerRecordIsTheCostWhenTheTargetReportsIt() throws Exception {
    FakeTarget target = new FakeTarget(1, true);
    target.processed[0] = 0;
    try (Shadow shadow = failingShadow();
        StreamController c = StreamController.builder(new StreamPlanner(config), target, shadow, sampling)
            .clock(clock).ledger(ledger, "n1").build()) {
      for (int t = 0; t < 20; t++) {
        // 1000 records/s processed at 3 ms each of the primary's busy time (the shadow measures nothing).
        target.processed[0] += 1000;
        target.busy[0] += 1000 * 3_000_000L;
        interval(c, shadow, 0, 1000);
      }
      assertThat(c.lastPlan().get(0).costSecondsPerRecord()).isCloseTo(0.003, within(1e-4));
      // 1000 records/s x 3 ms = 3 cores.
      assertThat(target.workers(0)).isGreaterThanOrEqualTo(3);
      for (int t = 0; t < 20; t++) {
        // Too few records processed to measure: the cost it learnt stands.
        target.processed[0] += 5;
        target.busy[0] += 5 * 9_000_000L;
        interval(c, shadow, 0, 5);
      }
      assertThat(c.lastPlan().get(0).costSecondsPerRecord()).isCloseTo(0.003, within(1e-4));
    }
  }

  @Test
  void withoutThePrimarysCountsTheShadowsDefaultCostStands() throws Exception {
    FakeTarget target = new FakeTarget(1, true);
    try (Shadow shadow = failingShadow();
        StreamController c = StreamController.builder(new StreamPlanner(config), target, shadow, sampling)
            .clock(clock).ledger(ledger, "n1").build()) {
      for (int t = 0; t < 5; t++) {
        target.busy[0] += 1000 * 3_000_000L;
        interval(c, shadow, 0, 1000);
      }
      assertThat(c.lastPlan().get(0).costSecondsPerRecord()).isCloseTo(config.defaultCostSeconds(), within(1e-9));
    }
  }

  @Test
  void theBurstFloorHoldsASpikesNeedForItsWindowOnly() throws Exception {
    FakeTarget withFloor = new FakeTarget(1, false);
    FakeTarget without = new FakeTarget(1, false);
    try (Shadow s1 = failingShadow(); Shadow s2 = failingShadow();
        StreamController floor = StreamController.builder(new StreamPlanner(config), withFloor, s1, sampling)
            .clock(clock).ledger(ledger, "n1").name("floor").burstWindow(Duration.ofSeconds(8)).build();
        StreamController plain = StreamController.builder(new StreamPlanner(config), without, s2, sampling)
            .clock(clock).ledger(ledger, "n1").name("plain").build()) {
      for (int t = 0; t < 15; t++) {
        int rate = t == 11 ? 4000 : 200;
        for (int i = 0; i < rate * sampling.rate(); i++) {
          s1.offer(new StreamRecord(0, "k" + i, null));
          s2.offer(new StreamRecord(0, "k" + i, null));
        }
        s1.awaitIdle(Duration.ofSeconds(5));
        s2.awaitIdle(Duration.ofSeconds(5));
        clock.advance(Duration.ofSeconds(1));
        floor.tick();
        plain.tick();
      }
      // Three intervals after a spike of 4000 records/s x 1 ms: the floor still holds its 4 cores, the plain
      // loop has given them back after its grace.
      assertThat(floor.reserved(0).orElseThrow().amount().cpuMillis()).isGreaterThanOrEqualTo(4000);
      assertThat(plain.reserved(0).orElseThrow().amount().cpuMillis()).isLessThan(4000);
      for (int t = 0; t < 8; t++) {
        for (int i = 0; i < 200 * sampling.rate(); i++) {
          s1.offer(new StreamRecord(0, "k" + i, null));
        }
        s1.awaitIdle(Duration.ofSeconds(5));
        clock.advance(Duration.ofSeconds(1));
        floor.tick();
      }
      assertThat(floor.reserved(0).orElseThrow().amount().cpuMillis()).isLessThan(4000);
    }
  }

  @Test
  void anIdleStreamReservesWhatItsForecastNeedsNotAWorkerPerPartition() throws Exception {
    FakeTarget target = new FakeTarget(2, false);
    try (Shadow shadow = failingShadow();
        StreamController c = new StreamController(new StreamPlanner(config), target, shadow, sampling, clock, ledger,
            "n1")) {
      for (int t = 0; t < 20; t++) {
        interval(c, shadow, 0, 100);
        interval(c, shadow, 1, 0);
      }
      // 100 records/s x 1 ms = 0.1 core (x2 intervals: partition 1's tick is an idle second for partition 0).
      assertThat(c.reserved(0).orElseThrow().amount().cpuMillis()).isBetween(50L, 400L);
      assertThat(c.reserved(1).orElseThrow().amount().cpuMillis()).isLessThan(100L);
      assertThat(target.workers(0)).isEqualTo(1);
      assertThat(target.workers(1)).isEqualTo(1);
    }
  }

  @Test
  void theReactiveBaselineIsScoredBesideTheForecast() throws Exception {
    FakeTarget target = new FakeTarget(1, false);
    try (Shadow shadow = failingShadow();
        StreamController c = new StreamController(new StreamPlanner(config), target, shadow, sampling, clock, ledger,
            "n1")) {
      for (int t = 0; t < 60; t++) {
        interval(c, shadow, 0, t % 10 < 5 ? 3000 : 500);
      }
      LoopStats stats = c.stats();
      assertThat(stats.loop()).isEqualTo("stream");
      assertThat(stats.guard().baseline()).isEqualTo("reactive");
      assertThat(stats.guard().scored()).isGreaterThan(50);
      assertThat(stats.guard().penumbraCost()).isPositive();
      assertThat(stats.guard().baselineCost()).isPositive();
      assertThat(stats.guard().acting()).isIn(ControlLoop.Rule.PENUMBRA, ControlLoop.Rule.BASELINE);
      assertThat(stats.cpuReservedPerUsed()).isGreaterThan(1);
    }
  }

  @Test
  void closingReleasesEveryPartitionsReservation() throws Exception {
    FakeTarget target = new FakeTarget(2, false);
    Shadow shadow = failingShadow();
    StreamController c = new StreamController(new StreamPlanner(config), target, shadow, sampling, clock, ledger,
        "n1");
    interval(c, shadow, 0, 2000);
    long id = c.reservation(0).orElseThrow();
    c.close();
    shadow.close();
    assertThat(ledger.get(id).orElseThrow().state()).isEqualTo(Reservation.State.RELEASED);
    assertThat(ledger.nodes().get(0).used()).isEqualTo(Resources.ZERO);
  }

  @Test
  void keepsTheShadowWithinItsBudgetWithoutBiasingTheRate() throws Exception {
    FakeTarget target = new FakeTarget(1, true);
    Sampling half = Sampling.everyNth(0.5);
    // The shadow burns about 1 ms of CPU per record; the primary is reported busy one core-second per interval.
    try (Shadow shadow = Shadow.start("s", r -> {
          long end = System.nanoTime() + 1_000_000;
          while (System.nanoTime() < end) {
            Thread.onSpinWait();
          }
        }, 100_000);
        StreamController c = StreamController.builder(new StreamPlanner(config), target, shadow, half)
            .clock(clock).ledger(ledger, "n1").build()) {
      assertThat(shadow.admitted()).isEqualTo(0.04);
      for (int t = 0; t < 40; t++) {
        for (int i = 0; i < 200; i++) {
          shadow.offer(new StreamRecord(0, "k" + i, null));
        }
        assertThat(shadow.awaitIdle(Duration.ofSeconds(30))).isTrue();
        target.busy[0] += 1_000_000_000L;
        clock.advance(Duration.ofSeconds(1));
        c.tick();
      }
      assertThat(c.shadowShare()).isLessThanOrEqualTo(c.shadowBudget() * 1.5);
      assertThat(shadow.stats(0).skipped()).isPositive();
      assertThat(shadow.admitted()).isLessThan(1);
      // Skipped records still count: 200 offered per second at a 50% sample is 400 records/s.
      assertThat(c.lastPlan().get(0).horizons().get(0).ratePoint())
          .isCloseTo(400, org.assertj.core.data.Offset.offset(1.0));
    }
  }

  /** Seeded: a rate at 3,000 records/s that pauses now and then for 3-5 intervals, at no fixed period. */
  static int[] pausingRate(long seed, int intervals) {
    java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
    int[] rate = new int[intervals];
    for (int t = 0; t < intervals; t++) {
      rate[t] = 3000;
    }
    for (int t = 20; t < intervals - 3; t += 3 + random.nextInt(6)) {
      int pause = 3 + random.nextInt(3);
      for (int i = 0; i < pause; i++) {
        rate[t + i] = 50;
      }
      t += pause;
    }
    return rate;
  }

  @Test
  void whileTheQueueGuardFindsTheReactiveRuleCheaperThePartitionKeepsWhatThatRuleWouldKeep() throws Exception {
    int[] rate = pausingRate(7, 200);
    for (boolean on : new boolean[] {true, false}) {
      FakeTarget target = new FakeTarget(1, false);
      Ledger own = Ledger.inMemory(clock);
      own.addNode("n1", Resources.of(32_000, 64L << 30));
      try (Shadow shadow = failingShadow();
          StreamController c = StreamController.builder(new StreamPlanner(config), target, shadow, sampling)
              .clock(clock).ledger(own, "n1").workerStartup(Duration.ofSeconds(3)).queueGuard(on).build()) {
        int heldTicks = 0;
        for (int t = 0; t < rate.length; t++) {
          long before = c.reserved(0).map(r -> r.amount().cpuMillis()).orElse(0L);
          boolean holds = c.reactiveHolds(0);
          interval(c, shadow, 0, rate[t]);
          if (holds && c.reactiveHolds(0)) {
            heldTicks++;
            // It keeps what it held as far as the reactive rule would: no worker given back that rule keeps.
            long reactive = c.baselineSize(0).orElseThrow().cpuMillis();
            assertThat(c.reserved(0).orElseThrow().amount().cpuMillis()).as("tick %d", t)
                .isGreaterThanOrEqualTo(Math.min(reactive, before));
          }
        }
        if (on) {
          assertThat(heldTicks).as("the guard found the reactive rule cheaper on this rate").isPositive();
          assertThat(c.reactiveHeldIntervals()).isPositive();
        } else {
          assertThat(heldTicks).isZero();
          assertThat(c.reactiveHeldIntervals()).isZero();
        }
      }
    }
  }

  @Test
  void badOptionsNameTheFieldAndTheValue() throws Exception {
    FakeTarget target = new FakeTarget(1, false);
    try (Shadow shadow = failingShadow()) {
      var b = StreamController.builder(new StreamPlanner(config), target, shadow, sampling);
      assertThatThrownBy(() -> b.shadowBudget(0)).hasMessage("shadowBudget must be in (0, 1], was 0.0");
      assertThatThrownBy(() -> b.grace(Duration.ofSeconds(-1))).hasMessage("grace must be >= 0, was PT-1S");
      assertThatThrownBy(() -> b.reactiveUtilisation(1.5))
          .hasMessage("reactiveUtilisation must be in (0, 1], was 1.5");
      assertThatThrownBy(() -> b.burstWindow(Duration.ofSeconds(-2)))
          .hasMessage("burstWindow must be >= 0, was PT-2S");
      assertThatThrownBy(() -> b.scaleUpTolerance(1)).hasMessage("scaleUpTolerance must be in [0, 1), was 1.0");
      assertThatThrownBy(() -> b.scaleUpTolerance(-0.1)).hasMessage("scaleUpTolerance must be in [0, 1), was -0.1");
      assertThatThrownBy(() -> b.name(" ")).hasMessage("stream name must not be blank, was  ");
      assertThatThrownBy(() -> b.holdQuantile(1)).hasMessage("holdQuantile must be in (0, 1), was 1.0");
      assertThatThrownBy(() -> b.holdQuantile(0)).hasMessage("holdQuantile must be in (0, 1), was 0.0");
      assertThatThrownBy(() -> shadow.admit(0)).hasMessage("admitted share must be in (0, 1], was 0.0");
    }
  }

  @Test
  void withAToleranceAMarginalExcessStartsNoWorkerUnlessRecordsQueue() {
    FakeTarget target = new FakeTarget(1, false);
    WorkerActuator a = new WorkerActuator(target, config, Duration.ofSeconds(3), 0.1);
    Reservation r = ledger.reserve("s/p0", "n1", Resources.cpu(1000), dev.penumbra.core.Priority.STANDARD,
        Duration.ofMinutes(1));
    a.acquire(r);
    assertThat(target.workers[0]).isEqualTo(1);
    a.resize(r, Resources.cpu(1080));
    assertThat(target.workers[0]).as("8% above one worker, nothing queued").isEqualTo(1);
    target.backlog[0] = 5;
    a.resize(r, Resources.cpu(1080));
    assertThat(target.workers[0]).as("records queue: the excess is real").isEqualTo(2);
    target.backlog[0] = 0;
    a.resize(r, Resources.cpu(2500));
    assertThat(target.workers[0]).as("beyond the tolerance").isEqualTo(3);
    WorkerActuator none = new WorkerActuator(target, config, Duration.ofSeconds(3), 0);
    target.workers[0] = 1;
    none.acquire(r);
    none.resize(r, Resources.cpu(1010));
    assertThat(target.workers[0]).as("no tolerance: any excess starts a worker").isEqualTo(2);
  }
}
