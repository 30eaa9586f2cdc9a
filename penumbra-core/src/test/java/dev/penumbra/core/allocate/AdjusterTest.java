package dev.penumbra.core.allocate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.ledger.Reservation.State;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AdjusterTest {

  static final Duration LEASE = Duration.ofHours(1);
  static final Duration GRACE = Duration.ofMinutes(2);
  ManualClock clock;
  Ledger ledger;
  Map<Long, Resources> use;
  Adjuster adjuster;

  @BeforeEach
  void setUp() {
    clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    ledger = Ledger.inMemory(clock);
    ledger.addNode("n", Resources.of(4000, 4000));
    use = new HashMap<>();
    adjuster = Adjuster.builder(ledger, r -> Optional.ofNullable(use.get(r.id()))).grace(GRACE).margin(0.1).build();
  }

  Reservation active(long cpu, long mem) {
    return ledger.reserve("job", "n", Resources.of(cpu, mem), Priority.STANDARD, LEASE, State.ACTIVE);
  }

  @Test
  void reclaimsExactlyAfterGraceToPeakUsePlusMargin() {
    Reservation r = active(1000, 1000);
    use.put(r.id(), Resources.of(400, 1000));
    AdjustmentReport first = adjuster.adjust();
    assertThat(first.examined()).isEqualTo(1);
    assertThat(first.reclaimed()).isEmpty();
    clock.advance(Duration.ofSeconds(60));
    use.put(r.id(), Resources.of(500, 1000)); // the peak during grace
    assertThat(adjuster.adjust().reclaimed()).isEmpty();
    use.put(r.id(), Resources.of(300, 1000));
    clock.advance(Duration.ofSeconds(60).minusNanos(1));
    assertThat(adjuster.adjust().reclaimed()).isEmpty();
    assertThat(ledger.get(r.id()).orElseThrow().amount()).isEqualTo(Resources.of(1000, 1000));
    clock.advance(Duration.ofNanos(1));
    AdjustmentReport report = adjuster.adjust();
    assertThat(report.reclaimed()).hasSize(1);
    AdjustmentReport.Reclaimed rec = report.reclaimed().get(0);
    assertThat(rec.after()).isEqualTo(Resources.of(550, 1000)); // ceil(500 x 1.1); memory fully used: kept
    assertThat(rec.amount()).isEqualTo(Resources.of(450, 0));
    assertThat(report.totalReclaimed()).isEqualTo(Resources.of(450, 0));
    assertThat(ledger.get(r.id()).orElseThrow().amount()).isEqualTo(Resources.of(550, 1000));
    assertThat(report.overruns()).isEmpty();
  }

  @Test
  void useReturningNearTheReservationRestartsTheGrace() {
    Reservation r = active(1000, 1000);
    use.put(r.id(), Resources.of(400, 1000));
    adjuster.adjust();
    clock.advance(Duration.ofSeconds(90));
    use.put(r.id(), Resources.of(950, 1000)); // 950 x 1.1 >= 1000: no headroom now
    adjuster.adjust();
    clock.advance(Duration.ofSeconds(60));
    use.put(r.id(), Resources.of(400, 1000));
    assertThat(adjuster.adjust().reclaimed()).isEmpty();
    clock.advance(GRACE);
    assertThat(adjuster.adjust().reclaimed()).hasSize(1);
  }

  @Test
  void extendsOnOverrunWhenTheNodeHasRoom() {
    Reservation r = active(1000, 1000);
    use.put(r.id(), Resources.of(1500, 900));
    AdjustmentReport report = adjuster.adjust();
    assertThat(report.extended()).hasSize(1);
    assertThat(report.extended().get(0).after()).isEqualTo(Resources.of(1650, 1000));
    assertThat(report.totalExtended()).isEqualTo(Resources.of(650, 0));
    assertThat(report.overruns()).isEmpty();
    assertThat(ledger.get(r.id()).orElseThrow().amount()).isEqualTo(Resources.of(1650, 1000));
  }

  @Test
  void overrunItCannotCoverIsReported() {
    Reservation r = active(1000, 1000);
    Reservation other = active(2800, 1000);
    use.put(r.id(), Resources.of(1500, 1000));
    AdjustmentReport report = adjuster.adjust();
    // Only 200 cpu free: grown to 1200, 300 still uncovered.
    assertThat(report.extended()).extracting(AdjustmentReport.Extended::after)
        .containsExactly(Resources.of(1200, 1000));
    assertThat(report.overruns()).hasSize(1);
    AdjustmentReport.Overrun o = report.overruns().get(0);
    assertThat(o.reservation()).isEqualTo(r.id());
    assertThat(o.used()).isEqualTo(Resources.of(1500, 1000));
    assertThat(o.reserved()).isEqualTo(Resources.of(1200, 1000));
    assertThat(o.uncovered()).isEqualTo(Resources.of(300, 0));
    assertThat(report.totalUncovered()).isEqualTo(Resources.of(300, 0));
    assertThat(ledger.snapshot().node("n").orElseThrow().free()).isEqualTo(Resources.of(0, 2000));
    assertThat(other.state()).isEqualTo(State.ACTIVE);
  }

  @Test
  void warmAndUnmeasuredReservationsAreLeftAlone() {
    Reservation warm = ledger.reserve("w", "n", Resources.of(1000, 1000), Priority.BATCH, LEASE);
    Reservation unmeasured = active(1000, 1000);
    use.put(warm.id(), Resources.ZERO);
    adjuster.adjust();
    clock.advance(GRACE);
    AdjustmentReport report = adjuster.adjust();
    assertThat(report.examined()).isZero();
    assertThat(report.reclaimed()).isEmpty();
    assertThat(ledger.get(warm.id()).orElseThrow().amount()).isEqualTo(Resources.of(1000, 1000));
    assertThat(ledger.get(unmeasured.id()).orElseThrow().amount()).isEqualTo(Resources.of(1000, 1000));
  }

  @Test
  void feedsComparisonsIntoTheErrorTracker() {
    ErrorTracker tracker = new ErrorTracker(10);
    Adjuster a = Adjuster.builder(ledger, r -> Optional.ofNullable(use.get(r.id())))
        .errorTracker(tracker).build();
    Reservation r = active(1000, 0);
    use.put(r.id(), Resources.of(1250, 0));
    a.adjust();
    var stats = tracker.stats("job@standard/cpu");
    assertThat(stats.count()).isEqualTo(1);
    assertThat(stats.exceedanceRate()).isEqualTo(1.0);
    assertThat(stats.mape()).isEqualTo(0.2);
    assertThat(tracker.stats("job@standard/memory").count()).isZero();
    assertThat(Allocator.feedbackName("job", Priority.STANDARD, Resources.Dimension.CPU)).isEqualTo("job@standard/cpu");
  }
}
