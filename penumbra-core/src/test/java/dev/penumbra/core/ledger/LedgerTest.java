package dev.penumbra.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.LedgerEvent.Type;
import dev.penumbra.core.ledger.Reservation.State;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LedgerTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final Duration LEASE = Duration.ofSeconds(30);

  ManualClock clock;
  Ledger ledger;
  List<LedgerEvent> events;

  @BeforeEach
  void setUp() {
    clock = new ManualClock(T0);
    ledger = Ledger.inMemory(clock);
    events = new ArrayList<>();
    ledger.subscribe(events::add);
    ledger.addNode("a", Resources.of(4000, 8L << 30));
    ledger.addNode("b", Resources.of(2000, 4L << 30));
  }

  @Test
  void lifecycleWarmActiveReleasedWithEvents() {
    Reservation r = ledger.reserve("job-1", "a", Resources.of(1000, 1L << 30), Priority.STANDARD, LEASE);
    assertThat(r.state()).isEqualTo(State.WARM);
    assertThat(r.created()).isEqualTo(T0);
    assertThat(r.leaseExpiry()).isEqualTo(T0.plus(LEASE));
    assertThat(ledger.snapshot().node("a").orElseThrow().used()).isEqualTo(Resources.of(1000, 1L << 30));

    Reservation act = ledger.activate(r.id());
    assertThat(act.state()).isEqualTo(State.ACTIVE);
    Reservation big = ledger.resize(r.id(), Resources.of(3000, 2L << 30));
    assertThat(big.amount()).isEqualTo(Resources.of(3000, 2L << 30));
    clock.advance(Duration.ofSeconds(10));
    Reservation renewed = ledger.renew(r.id(), LEASE);
    assertThat(renewed.leaseExpiry()).isEqualTo(T0.plusSeconds(40));
    Reservation rel = ledger.release(r.id());
    assertThat(rel.state()).isEqualTo(State.RELEASED);
    assertThat(ledger.snapshot().node("a").orElseThrow().used()).isEqualTo(Resources.ZERO);
    assertThat(ledger.snapshot().reservations()).isEmpty();
    assertThat(ledger.get(r.id())).contains(rel);

    assertThat(events).extracting(LedgerEvent::type).containsExactly(
        Type.NODE_ADDED, Type.NODE_ADDED, Type.RESERVED, Type.ACTIVATED, Type.RESIZED, Type.RENEWED, Type.RELEASED);
    assertThat(events).extracting(LedgerEvent::sequence).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L);
    LedgerEvent resized = events.get(4);
    assertThat(resized.before().amount()).isEqualTo(Resources.of(1000, 1L << 30));
    assertThat(resized.after()).isEqualTo(big);
    assertThat(events.get(6).time()).isEqualTo(T0.plusSeconds(10));
  }

  @Test
  void reserveDirectlyActiveAndDoesNotOverbook() {
    Reservation r = ledger.reserve("x", "b", Resources.of(1500, 1L << 30), Priority.BATCH, LEASE, State.ACTIVE);
    assertThat(r.state()).isEqualTo(State.ACTIVE);
    assertThatThrownBy(() -> ledger.reserve("y", "b", Resources.cpu(501), Priority.CRITICAL, LEASE))
        .isInstanceOf(InsufficientCapacityException.class)
        .hasMessageContaining("node 'b'")
        .hasMessageContaining("owner 'y'");
    Reservation exact = ledger.reserve("y", "b", Resources.cpu(500), Priority.CRITICAL, LEASE);
    assertThat(ledger.snapshot().node("b").orElseThrow().free().cpuMillis()).isZero();
    ledger.resize(exact.id(), Resources.cpu(100));
    assertThat(ledger.snapshot().node("b").orElseThrow().free().cpuMillis()).isEqualTo(400);
  }

  @Test
  void leaseExpiresExactlyAtTheInstantNotBefore() {
    Reservation r = ledger.reserve("x", "a", Resources.cpu(1000), Priority.STANDARD, LEASE);
    clock.set(T0.plus(LEASE).minusNanos(1));
    assertThat(ledger.expireDue()).isZero();
    assertThat(ledger.get(r.id()).orElseThrow().state()).isEqualTo(State.WARM);
    clock.advance(Duration.ofNanos(1));
    // Any operation at T expires it, reads included.
    assertThat(ledger.snapshot().reservations()).isEmpty();
    assertThat(ledger.get(r.id()).orElseThrow().state()).isEqualTo(State.EXPIRED);
    assertThat(events.get(events.size() - 1).type()).isEqualTo(Type.EXPIRED);
    assertThat(events.get(events.size() - 1).time()).isEqualTo(T0.plus(LEASE));
    assertThatThrownBy(() -> ledger.renew(r.id(), LEASE))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("reservation " + r.id() + " is EXPIRED and cannot renew");
  }

  @Test
  void renewedLeaseMovesExpiryAndExpiryOrderIsByInstant() {
    Reservation a = ledger.reserve("x", "a", Resources.cpu(100), Priority.STANDARD, Duration.ofSeconds(10));
    Reservation b = ledger.reserve("y", "a", Resources.cpu(100), Priority.STANDARD, Duration.ofSeconds(20));
    Reservation c = ledger.reserve("z", "a", Resources.cpu(100), Priority.STANDARD, Duration.ofSeconds(5));
    clock.advance(Duration.ofSeconds(4));
    ledger.renew(c.id(), Duration.ofSeconds(30)); // now until 34s
    clock.set(T0.plusSeconds(10));
    assertThat(ledger.snapshot().reservations()).extracting(Reservation::id).containsExactly(b.id(), c.id());
    clock.set(T0.plusSeconds(20));
    assertThat(ledger.snapshot().reservations()).extracting(Reservation::id).containsExactly(c.id());
    clock.set(T0.plusSeconds(33));
    assertThat(ledger.expireDue()).isZero();
    clock.set(T0.plusSeconds(34));
    assertThat(ledger.expireDue()).isEqualTo(1);
    assertThat(ledger.get(a.id()).orElseThrow().state()).isEqualTo(State.EXPIRED);
  }

  @Test
  void removeNodeOnlyWhenEmpty() {
    Reservation r = ledger.reserve("x", "b", Resources.cpu(100), Priority.BATCH, LEASE);
    assertRejected(() -> ledger.removeNode("b"), IllegalStateException.class,
        "node 'b' still holds 1 live reservations; release them first");
    ledger.release(r.id());
    ledger.removeNode("b");
    assertThat(ledger.nodes()).extracting(NodeView::id).containsExactly("a");
  }

  // ---------------------------------------------------------------- bad input

  void assertRejected(ThrowingCallable call, Class<? extends Throwable> type, String message) {
    LedgerSnapshot before = ledger.snapshot();
    int eventsBefore = events.size();
    assertThatThrownBy(call).isInstanceOf(type).hasMessage(message);
    LedgerSnapshot after = ledger.snapshot();
    assertThat(after.sequence()).isEqualTo(before.sequence());
    assertThat(after.nodes()).isEqualTo(before.nodes());
    assertThat(after.reservations()).isEqualTo(before.reservations());
    assertThat(events).hasSize(eventsBefore);
  }

  @Test
  void unknownNode() {
    assertRejected(() -> ledger.reserve("x", "zz", Resources.cpu(1), Priority.BATCH, LEASE),
        IllegalArgumentException.class, "node 'zz' is not in the ledger");
  }

  @Test
  void unknownReservation() {
    assertRejected(() -> ledger.release(999), IllegalArgumentException.class,
        "reservation 999 is not in the ledger");
    assertRejected(() -> ledger.activate(-1), IllegalArgumentException.class,
        "reservation -1 is not in the ledger");
  }

  @Test
  void doubleRelease() {
    Reservation r = ledger.reserve("x", "a", Resources.cpu(1), Priority.BATCH, LEASE);
    ledger.release(r.id());
    assertRejected(() -> ledger.release(r.id()), IllegalStateException.class,
        "reservation " + r.id() + " is RELEASED and cannot release");
  }

  @Test
  void activateReleasedOrActive() {
    Reservation r = ledger.reserve("x", "a", Resources.cpu(1), Priority.BATCH, LEASE);
    Reservation s = ledger.reserve("y", "a", Resources.cpu(1), Priority.BATCH, LEASE, State.ACTIVE);
    ledger.release(r.id());
    assertRejected(() -> ledger.activate(r.id()), IllegalStateException.class,
        "reservation " + r.id() + " is RELEASED and cannot activate");
    assertRejected(() -> ledger.activate(s.id()), IllegalStateException.class,
        "reservation " + s.id() + " is ACTIVE; only a WARM reservation can be activated");
  }

  @Test
  void resizeBeyondCapacity() {
    Reservation r = ledger.reserve("x", "b", Resources.cpu(1000), Priority.BATCH, LEASE);
    assertRejected(() -> ledger.resize(r.id(), Resources.cpu(2001)), InsufficientCapacityException.class,
        "reservation " + r.id() + " cannot grow to amount " + Resources.cpu(2001) + " on node 'b': it holds "
            + Resources.cpu(1000) + ", free " + Resources.of(1000, 4L << 30) + " of capacity "
            + Resources.of(2000, 4L << 30));
  }

  @Test
  void zeroOrNegativeLease() {
    assertRejected(() -> ledger.reserve("x", "a", Resources.cpu(1), Priority.BATCH, Duration.ZERO),
        IllegalArgumentException.class, "lease must be > 0, was PT0S");
    assertRejected(() -> ledger.reserve("x", "a", Resources.cpu(1), Priority.BATCH, Duration.ofSeconds(-1)),
        IllegalArgumentException.class, "lease must be > 0, was PT-1S");
    Reservation r = ledger.reserve("x", "a", Resources.cpu(1), Priority.BATCH, LEASE);
    assertRejected(() -> ledger.renew(r.id(), Duration.ZERO), IllegalArgumentException.class,
        "lease must be > 0, was PT0S");
  }

  @Test
  void duplicateNode() {
    assertRejected(() -> ledger.addNode("a", Resources.cpu(1)), IllegalArgumentException.class,
        "node id 'a' is already in the ledger");
  }

  @Test
  void nullOwnerAndOtherMissingArguments() {
    assertRejected(() -> ledger.reserve(null, "a", Resources.cpu(1), Priority.BATCH, LEASE),
        IllegalArgumentException.class, "owner must not be null or blank, was null");
    assertRejected(() -> ledger.reserve("x", "a", null, Priority.BATCH, LEASE),
        IllegalArgumentException.class, "amount for owner 'x' must not be null");
    assertRejected(() -> ledger.reserve("x", "a", Resources.cpu(1), null, LEASE),
        IllegalArgumentException.class, "priority for owner 'x' must not be null");
    assertRejected(() -> ledger.reserve("x", "a", Resources.cpu(1), Priority.BATCH, LEASE, State.RELEASED),
        IllegalArgumentException.class, "initial state must be WARM or ACTIVE, was RELEASED");
    assertRejected(() -> ledger.addNode(null, Resources.cpu(1)),
        IllegalArgumentException.class, "node id must not be null or blank, was null");
  }

  @Test
  void listenerFailureDoesNotStopOthersAndUnsubscribeStops() {
    List<LedgerEvent> second = new ArrayList<>();
    ledger.subscribe(e -> {
      throw new RuntimeException("boom");
    });
    Ledger.Subscription sub = ledger.subscribe(second::add);
    Reservation r = ledger.reserve("x", "a", Resources.cpu(1), Priority.BATCH, LEASE);
    assertThat(second).extracting(LedgerEvent::type).containsExactly(Type.RESERVED);
    sub.close();
    ledger.release(r.id());
    assertThat(second).hasSize(1);
    assertThat(events.get(events.size() - 1).type()).isEqualTo(Type.RELEASED);
  }

  @Test
  void listenerMayCallTheLedgerAndSeesEventsInOrder() {
    List<Long> seqs = new ArrayList<>();
    ledger.subscribe(e -> {
      seqs.add(e.sequence());
      if (e.type() == Type.RELEASED && e.after().owner().equals("first")) {
        ledger.reserve("second", "a", Resources.cpu(1), Priority.BATCH, LEASE);
      }
    });
    Reservation r = ledger.reserve("first", "a", Resources.cpu(1), Priority.BATCH, LEASE);
    ledger.release(r.id());
    assertThat(seqs).containsExactly(3L, 4L, 5L);
    assertThat(events).extracting(LedgerEvent::sequence).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(ledger.snapshot().reservations()).extracting(Reservation::owner).containsExactly("second");
  }
}
