package dev.penumbra.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A live reservation of an earlier run is put back with its id and lease, counted against capacity. */
class LedgerRestoreTest {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void aRestoredReservationKeepsItsIdAndLeaseAndExpiresOnTime() {
    ManualClock clock = new ManualClock(T0);
    Ledger before = Ledger.inMemory(clock, 1);
    before.addNode("a", Resources.of(2000, 1L << 30));
    Reservation r = before.reserve("ext", "a", Resources.of(500, 1L << 28), Priority.BATCH, Duration.ofSeconds(60),
        Reservation.State.ACTIVE);

    clock.advance(Duration.ofSeconds(10));
    Ledger after = Ledger.inMemory(clock, 1000);
    after.addNode("a", Resources.of(2000, 1L << 30));
    List<LedgerEvent> events = new ArrayList<>();
    after.subscribe(events::add);
    assertThat(after.restore(r)).isEqualTo(r);
    assertThat(after.get(r.id())).contains(r);
    assertThat(after.nodes().get(0).used()).isEqualTo(Resources.of(500, 1L << 28));
    assertThat(events).extracting(LedgerEvent::type).containsExactly(LedgerEvent.Type.RESERVED);
    assertThat(after.reserve("new", "a", Resources.of(100, 0), Priority.BATCH, Duration.ofSeconds(600)).id())
        .isEqualTo(1000);
    assertThatThrownBy(() -> after.restore(r)).hasMessageContaining("in use");
    clock.advance(Duration.ofSeconds(50));
    assertThat(after.expireDue()).isEqualTo(1);
    assertThat(after.get(r.id()).orElseThrow().state()).isEqualTo(Reservation.State.EXPIRED);
  }

  @Test
  void whatIsNotLiveOrDoesNotFitOrHasAFutureIdIsRefused() {
    ManualClock clock = new ManualClock(T0);
    Ledger l = Ledger.inMemory(clock, 10);
    l.addNode("a", Resources.of(1000, 1L << 20));
    Reservation big = new Reservation(3, "x", "a", Resources.of(2000, 0), Priority.BATCH, Reservation.State.ACTIVE,
        T0, T0.plusSeconds(60));
    assertThatThrownBy(() -> l.restore(big)).isInstanceOf(InsufficientCapacityException.class);
    Reservation future = new Reservation(10, "x", "a", Resources.of(100, 0), Priority.BATCH,
        Reservation.State.ACTIVE, T0, T0.plusSeconds(60));
    assertThatThrownBy(() -> l.restore(future)).hasMessageContaining("next id");
    Reservation ended = new Reservation(4, "x", "a", Resources.of(100, 0), Priority.BATCH,
        Reservation.State.RELEASED, T0, T0.plusSeconds(60));
    assertThatThrownBy(() -> l.restore(ended)).hasMessageContaining("live");
    assertThat(l.snapshot().reservations()).isEmpty();
  }
}
