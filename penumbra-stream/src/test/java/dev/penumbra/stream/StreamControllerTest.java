package dev.penumbra.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StreamControllerTest {

  @Test
  void learnsRatesFromTheShadowReservesAndScalesAPartition() throws Exception {
    ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    Ledger ledger = Ledger.inMemory(clock);
    ledger.addNode("n1", Resources.of(64_000, 64L << 30));
    Sampling sampling = Sampling.everyNth(0.1);
    // The shadow is told the cost; the primary does nothing, so the test does not depend on machine speed.
    PlannerConfig config = PlannerConfig.defaults().withLead(Duration.ofSeconds(2)).withTargetUtilisation(1.0)
        .withWorkers(1, 16);
    try (Shadow shadow = Shadow.start("s", r -> { }, 10_000);
        EmbeddedStream stream = EmbeddedStream.builder(2, r -> { }).maxWorkers(16).shadow(sampling, shadow).build()) {
      StreamPlanner planner = new StreamPlanner(config);
      StreamController controller = new StreamController(planner, stream, shadow, sampling, clock, ledger, "n1");
      Map<Integer, PartitionPlan> plans = Map.of();
      for (int tick = 0; tick < 30; tick++) {
        // partition 0: 2000 records per 1 s interval, partition 1: 100
        for (int i = 0; i < 2000; i++) {
          stream.submit(new StreamRecord(0, "k" + i, null));
        }
        for (int i = 0; i < 100; i++) {
          stream.submit(new StreamRecord(1, "k" + i, null));
        }
        assertThat(shadow.awaitIdle(Duration.ofSeconds(10))).isTrue();
        clock.advance(Duration.ofSeconds(1));
        plans = controller.tick();
      }
      PartitionPlan p0 = plans.get(0);
      // The planner measured a tiny cost (empty processing), so it needs few workers; check the rate it learnt.
      assertThat(p0.horizons().get(0).ratePoint()).isCloseTo(2000, org.assertj.core.data.Offset.offset(20.0));
      assertThat(plans.get(1).horizons().get(0).ratePoint()).isCloseTo(100, org.assertj.core.data.Offset.offset(2.0));
      long id = controller.reservation(0).orElseThrow();
      Reservation r = ledger.get(id).orElseThrow();
      assertThat(r.state()).isEqualTo(Reservation.State.ACTIVE);
      assertThat(r.owner()).isEqualTo("stream/p0");
      // Sized by the forecast demand (at least its upper bound), and the workers are what the reservation runs.
      assertThat(r.amount().cpuMillis()).isGreaterThanOrEqualTo(p0.demand().at(0.9).cpuMillis());
      assertThat(stream.workers(0)).isEqualTo((int) Math.max(1, (r.amount().cpuMillis() + 999) / 1000));
    }
  }

  @Test
  void doesNotScaleBeyondWhatTheLedgerCanReserve() throws Exception {
    ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    Ledger ledger = Ledger.inMemory(clock);
    // Room for 3 workers only (3 cores).
    ledger.addNode("small", Resources.of(3_000, 64L << 30));
    Sampling sampling = Sampling.everyNth(0.01);
    PlannerConfig config = PlannerConfig.defaults().withTargetUtilisation(1.0).withWorkers(1, 64);
    RecordProcessor busy20ms = r -> {
      long end = System.nanoTime() + 20_000_000;
      while (System.nanoTime() < end) {
        Thread.onSpinWait();
      }
    };
    // The primary holds its records until the end: it has processed none, so the cost comes from the shadow.
    java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
    try (Shadow shadow = Shadow.start("s", busy20ms, 10_000);
        EmbeddedStream stream = EmbeddedStream.builder(1, r -> hold.await()).maxWorkers(64).queueCapacity(4096)
            .shadow(sampling, shadow).build()) {
      try {
        StreamController controller = new StreamController(new StreamPlanner(config), stream, shadow, sampling, clock,
            ledger, "small");
        for (int i = 0; i < 3000; i++) {
          stream.submit(new StreamRecord(0, "k" + i, null));
        }
        assertThat(shadow.awaitIdle(Duration.ofSeconds(20))).isTrue();
        clock.advance(Duration.ofSeconds(1));
        PartitionPlan plan = controller.tick().get(0);
        // 3000 rec/s at >= 2 ms of CPU each (20 ms busy, even with a tenth of a core) needs > 3 workers.
        assertThat(plan.workers()).isGreaterThan(3);
        assertThat(stream.workers(0)).isEqualTo(1);
        assertThat(controller.shortfalls()).isEqualTo(1);
        assertThat(controller.reservation(0)).isEmpty();
      } finally {
        hold.countDown();
      }
    }
  }

  @Test
  void rejectsAnUnknownLedgerNode() throws Exception {
    ManualClock clock = new ManualClock(Instant.EPOCH);
    Ledger ledger = Ledger.inMemory(clock);
    try (Shadow shadow = Shadow.start("s", r -> { }, 10);
        EmbeddedStream stream = EmbeddedStream.builder(1, r -> { }).build()) {
      assertThatThrownBy(() -> new StreamController(new StreamPlanner(PlannerConfig.defaults()), stream, shadow,
          Sampling.everyNth(0.1), clock, ledger, "nowhere"))
          .isInstanceOf(IllegalArgumentException.class).hasMessage("unknown ledger node 'nowhere'");
    }
  }
}
