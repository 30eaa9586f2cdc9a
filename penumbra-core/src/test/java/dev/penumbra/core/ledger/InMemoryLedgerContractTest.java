package dev.penumbra.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.LedgerEvent.Type;
import dev.penumbra.core.ledger.Reservation.State;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The ledger contract on the in-memory ledger, the reference every other implementation is compared with, and the
 * few finer points checked on the reference alone (the contract's own tests cover the rest).
 */
class InMemoryLedgerContractTest extends LedgerContract {

  @Override
  protected Ledger newLedger(ManualClock clock) {
    return Ledger.inMemory(clock);
  }

  @Test
  void aReservationHoldsItsAmountUntilReleasedAndAResizeEventCarriesBothSides() {
    Reservation r = ledger.reserve("job-1", "a", Resources.of(1000, 1L << 30), Priority.STANDARD, LEASE);
    assertThat(ledger.snapshot().node("a").orElseThrow().used()).isEqualTo(Resources.of(1000, 1L << 30));
    ledger.resize(r.id(), Resources.of(3000, 2L << 30));
    LedgerEvent resized = events.get(events.size() - 1);
    assertThat(resized.type()).isEqualTo(Type.RESIZED);
    assertThat(resized.before().amount()).isEqualTo(Resources.of(1000, 1L << 30));
    ledger.release(r.id());
    assertThat(ledger.snapshot().reservations()).isEmpty();
    assertThat(ledger.reserve("x", "b", Resources.cpu(1), Priority.BATCH, LEASE, State.ACTIVE).state())
        .isEqualTo(State.ACTIVE);
  }

  @Test
  void expiryFollowsTheRenewedInstants() {
    Reservation b = ledger.reserve("y", "a", Resources.cpu(100), Priority.STANDARD, Duration.ofSeconds(20));
    Reservation c = ledger.reserve("z", "a", Resources.cpu(100), Priority.STANDARD, Duration.ofSeconds(5));
    clock.advance(Duration.ofSeconds(4));
    ledger.renew(c.id(), Duration.ofSeconds(30)); // now until 34s
    clock.set(T0.plusSeconds(20));
    assertThat(ledger.snapshot().reservations()).extracting(Reservation::id).containsExactly(c.id());
    clock.set(T0.plusSeconds(33));
    assertThat(ledger.expireDue()).isZero();
    clock.set(T0.plusSeconds(34));
    assertThat(ledger.expireDue()).isEqualTo(1);
    assertThat(ledger.get(b.id()).orElseThrow().state()).isEqualTo(State.EXPIRED);
  }

  @Test
  void moreBadInputIsRejectedAndChangesNothing() {
    assertRejected(() -> ledger.activate(-1), IllegalArgumentException.class, "reservation -1 is not in the ledger");
    assertRejected(() -> ledger.reserve("x", "a", Resources.cpu(1), Priority.BATCH, Duration.ofSeconds(-1)),
        IllegalArgumentException.class, "lease must be > 0, was PT-1S");
    Reservation r = ledger.reserve("x", "a", Resources.cpu(1), Priority.BATCH, LEASE);
    assertRejected(() -> ledger.renew(r.id(), Duration.ZERO), IllegalArgumentException.class,
        "lease must be > 0, was PT0S");
    ledger.release(r.id());
    assertRejected(() -> ledger.activate(r.id()), IllegalStateException.class,
        "reservation " + r.id() + " is RELEASED and cannot activate");
  }
}
