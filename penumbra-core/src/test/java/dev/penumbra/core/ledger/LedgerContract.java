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
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What every {@link Ledger} must do, run against each implementation (the in-memory one here, the replicated
 * one in penumbra-cluster): a subclass says how to make a fresh, empty ledger whose leases follow a manual
 * clock. The randomized test compares the implementation with the in-memory reference step by step, results,
 * errors and events alike, so any difference in semantics fails it.
 */
public abstract class LedgerContract {

  protected static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  protected static final Duration LEASE = Duration.ofSeconds(30);

  protected ManualClock clock;
  protected Ledger ledger;
  protected List<LedgerEvent> events;

  /** A new, empty ledger whose leases follow {@code clock}. */
  protected abstract Ledger newLedger(ManualClock clock);

  /** How many random operations {@link #behavesLikeTheReference} runs per seed. */
  protected int referenceSteps() {
    return 150;
  }

  /** Releases what {@link #newLedger} set up; called after each test. */
  protected void closeLedger(Ledger ledger) {}

  @BeforeEach
  void setUpContract() {
    clock = new ManualClock(T0);
    ledger = newLedger(clock);
    events = Collections.synchronizedList(new ArrayList<>());
    ledger.subscribe(events::add);
    ledger.addNode("a", Resources.of(4000, 8L << 30));
    ledger.addNode("b", Resources.of(2000, 4L << 30));
  }

  @AfterEach
  void tearDownContract() {
    closeLedger(ledger);
  }

  @Test
  void lifecycleWarmActiveReleasedWithEvents() {
    Reservation r = ledger.reserve("job-1", "a", Resources.of(1000, 1L << 30), Priority.STANDARD, LEASE);
    assertThat(r.state()).isEqualTo(State.WARM);
    assertThat(r.created()).isEqualTo(T0);
    assertThat(r.leaseExpiry()).isEqualTo(T0.plus(LEASE));
    assertThat(ledger.activate(r.id()).state()).isEqualTo(State.ACTIVE);
    Reservation big = ledger.resize(r.id(), Resources.of(3000, 2L << 30));
    assertThat(big.amount()).isEqualTo(Resources.of(3000, 2L << 30));
    clock.advance(Duration.ofSeconds(10));
    assertThat(ledger.renew(r.id(), LEASE).leaseExpiry()).isEqualTo(T0.plusSeconds(40));
    Reservation rel = ledger.release(r.id());
    assertThat(rel.state()).isEqualTo(State.RELEASED);
    assertThat(ledger.snapshot().node("a").orElseThrow().used()).isEqualTo(Resources.ZERO);
    assertThat(ledger.get(r.id())).contains(rel);
    assertThat(events).extracting(LedgerEvent::type).containsExactly(
        Type.NODE_ADDED, Type.NODE_ADDED, Type.RESERVED, Type.ACTIVATED, Type.RESIZED, Type.RENEWED, Type.RELEASED);
    assertThat(events).extracting(LedgerEvent::sequence).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L);
    assertThat(events.get(4).after()).isEqualTo(big);
    assertThat(events.get(6).time()).isEqualTo(T0.plusSeconds(10));
  }

  @Test
  void idsAreUniqueAndIncreasing() {
    long last = 0;
    for (int i = 0; i < 5; i++) {
      Reservation r = ledger.reserve("o" + i, "a", Resources.cpu(10), Priority.BATCH, LEASE);
      assertThat(r.id()).isGreaterThan(last);
      last = r.id();
      ledger.release(r.id());
    }
  }

  @Test
  void doesNotOverbook() {
    ledger.reserve("x", "b", Resources.of(1500, 1L << 30), Priority.BATCH, LEASE, State.ACTIVE);
    assertThatThrownBy(() -> ledger.reserve("y", "b", Resources.cpu(501), Priority.CRITICAL, LEASE))
        .isInstanceOf(InsufficientCapacityException.class)
        .hasMessageContaining("node 'b'")
        .hasMessageContaining("owner 'y'");
    Reservation exact = ledger.reserve("y", "b", Resources.cpu(500), Priority.CRITICAL, LEASE);
    assertThat(ledger.snapshot().node("b").orElseThrow().free().cpuMillis()).isZero();
    ledger.resize(exact.id(), Resources.cpu(100));
    assertThat(ledger.nodes().get(1).free().cpuMillis()).isEqualTo(400);
  }

  @Test
  void leaseExpiresExactlyAtTheInstantNotBefore() {
    Reservation r = ledger.reserve("x", "a", Resources.cpu(1000), Priority.STANDARD, LEASE);
    clock.set(T0.plus(LEASE).minusNanos(1));
    assertThat(ledger.expireDue()).isZero();
    assertThat(ledger.get(r.id()).orElseThrow().state()).isEqualTo(State.WARM);
    clock.advance(Duration.ofNanos(1));
    assertThat(ledger.snapshot().reservations()).isEmpty();
    assertThat(ledger.get(r.id()).orElseThrow().state()).isEqualTo(State.EXPIRED);
    LedgerEvent last = events.get(events.size() - 1);
    assertThat(last.type()).isEqualTo(Type.EXPIRED);
    assertThat(last.time()).isEqualTo(T0.plus(LEASE));
    assertThatThrownBy(() -> ledger.renew(r.id(), LEASE))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("reservation " + r.id() + " is EXPIRED and cannot renew");
  }

  @Test
  void renewMovesExpiry() {
    Reservation a = ledger.reserve("x", "a", Resources.cpu(100), Priority.STANDARD, Duration.ofSeconds(10));
    Reservation b = ledger.reserve("y", "a", Resources.cpu(100), Priority.STANDARD, Duration.ofSeconds(20));
    Reservation c = ledger.reserve("z", "a", Resources.cpu(100), Priority.STANDARD, Duration.ofSeconds(5));
    clock.advance(Duration.ofSeconds(4));
    ledger.renew(c.id(), Duration.ofSeconds(30));
    clock.set(T0.plusSeconds(10));
    assertThat(ledger.snapshot().reservations()).extracting(Reservation::id).containsExactly(b.id(), c.id());
    clock.set(T0.plusSeconds(33));
    assertThat(ledger.expireDue()).isEqualTo(1);
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

  @Test
  void preemptsFewestLowerPriorityVictimsAllOrNothing() {
    Reservation b1 = ledger.reserve("b1", "b", Resources.cpu(500), Priority.BATCH, LEASE);
    ledger.reserve("b2", "b", Resources.cpu(500), Priority.BATCH, LEASE);
    Reservation s = ledger.reserve("s", "b", Resources.cpu(1000), Priority.STANDARD, LEASE, State.ACTIVE);
    LedgerSnapshot before = ledger.snapshot();
    assertThatThrownBy(() -> ledger.reservePreempting("t", "b", Resources.cpu(1500), Priority.STANDARD, LEASE,
            State.WARM))
        .isInstanceOf(InsufficientCapacityException.class)
        .hasMessageContaining("even by preempting every lower-priority reservation");
    assertThat(ledger.snapshot().reservations()).isEqualTo(before.reservations());
    assertThat(ledger.preemptionPlan("b", Resources.cpu(1000), Priority.CRITICAL).orElseThrow())
        .extracting(Reservation::id).containsExactly(s.id());
    assertThat(ledger.preemptionPlan("b", Resources.cpu(500), Priority.STANDARD).orElseThrow())
        .extracting(Reservation::id).hasSize(1);
    Preemption p = ledger.reservePreempting("t", "b", Resources.cpu(500), Priority.STANDARD, LEASE, State.WARM);
    assertThat(p.victims()).hasSize(1);
    assertThat(p.victims().get(0).state()).isEqualTo(State.PREEMPTED);
    assertThat(ledger.get(p.victims().get(0).id()).orElseThrow().state()).isEqualTo(State.PREEMPTED);
    assertThat(events.get(events.size() - 1).type()).isEqualTo(Type.RESERVED);
    assertThat(events.get(events.size() - 2).type()).isEqualTo(Type.PREEMPTED);
    assertThat(b1.id()).isPositive();
  }

  // ---------------------------------------------------------------- bad input

  protected void assertRejected(ThrowingCallable call, Class<? extends Throwable> type, String message) {
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
  void badInputIsRejectedWithTheFieldAndValueAndChangesNothing() {
    assertRejected(() -> ledger.reserve("x", "zz", Resources.cpu(1), Priority.BATCH, LEASE),
        IllegalArgumentException.class, "node 'zz' is not in the ledger");
    assertRejected(() -> ledger.release(999), IllegalArgumentException.class,
        "reservation 999 is not in the ledger");
    assertRejected(() -> ledger.reserve(null, "a", Resources.cpu(1), Priority.BATCH, LEASE),
        IllegalArgumentException.class, "owner must not be null or blank, was null");
    assertRejected(() -> ledger.reserve("x", "a", null, Priority.BATCH, LEASE),
        IllegalArgumentException.class, "amount for owner 'x' must not be null");
    assertRejected(() -> ledger.reserve("x", "a", Resources.cpu(1), null, LEASE),
        IllegalArgumentException.class, "priority for owner 'x' must not be null");
    assertRejected(() -> ledger.reserve("x", "a", Resources.cpu(1), Priority.BATCH, LEASE, State.RELEASED),
        IllegalArgumentException.class, "initial state must be WARM or ACTIVE, was RELEASED");
    assertRejected(() -> ledger.reserve("x", "a", Resources.cpu(1), Priority.BATCH, Duration.ZERO),
        IllegalArgumentException.class, "lease must be > 0, was PT0S");
    assertRejected(() -> ledger.addNode(null, Resources.cpu(1)),
        IllegalArgumentException.class, "node id must not be null or blank, was null");
    assertRejected(() -> ledger.addNode("a", Resources.cpu(1)), IllegalArgumentException.class,
        "node id 'a' is already in the ledger");
    Reservation r = ledger.reserve("x", "b", Resources.cpu(1000), Priority.BATCH, LEASE);
    Reservation s = ledger.reserve("y", "b", Resources.cpu(1), Priority.BATCH, LEASE, State.ACTIVE);
    assertRejected(() -> ledger.resize(r.id(), Resources.cpu(2001)), InsufficientCapacityException.class,
        "reservation " + r.id() + " cannot grow to amount " + Resources.cpu(2001) + " on node 'b': it holds "
            + Resources.cpu(1000) + ", free " + Resources.of(999, 4L << 30) + " of capacity "
            + Resources.of(2000, 4L << 30));
    assertRejected(() -> ledger.activate(s.id()), IllegalStateException.class,
        "reservation " + s.id() + " is ACTIVE; only a WARM reservation can be activated");
    ledger.release(r.id());
    assertRejected(() -> ledger.release(r.id()), IllegalStateException.class,
        "reservation " + r.id() + " is RELEASED and cannot release");
  }

  // ---------------------------------------------------------------- listeners

  @Test
  void listenersSeeEveryChangeInOrderAndUnsubscribeStops() {
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
  void listenerMayCallTheLedger() {
    List<Long> seqs = Collections.synchronizedList(new ArrayList<>());
    ledger.subscribe(e -> {
      seqs.add(e.sequence());
      if (e.type() == Type.RELEASED && e.after().owner().equals("first")) {
        ledger.reserve("second", "a", Resources.cpu(1), Priority.BATCH, LEASE);
      }
    });
    Reservation r = ledger.reserve("first", "a", Resources.cpu(1), Priority.BATCH, LEASE);
    ledger.release(r.id());
    assertThat(ledger.snapshot().reservations()).extracting(Reservation::owner).containsExactly("second");
    assertThat(seqs).containsExactly(3L, 4L, 5L);
    assertThat(events).extracting(LedgerEvent::sequence).containsExactly(1L, 2L, 3L, 4L, 5L);
  }

  // ---------------------------------------------------------------- the reference

  /**
   * A seeded random sequence of operations (valid and invalid, with the clock moving) gives exactly what the
   * in-memory reference gives: same results, same errors, same events, same snapshots.
   */
  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3})
  void behavesLikeTheReference(long seed) {
    ManualClock refClock = new ManualClock(clock.instant());
    Ledger ref = Ledger.inMemory(refClock);
    List<LedgerEvent> refEvents = new ArrayList<>();
    ref.subscribe(refEvents::add);
    ref.addNode("a", Resources.of(4000, 8L << 30));
    ref.addNode("b", Resources.of(2000, 4L << 30));
    Random rnd = new Random(seed);
    Priority[] prios = Priority.values();
    for (int step = 0; step < referenceSteps(); step++) {
      Duration dt = Duration.ofMillis(rnd.nextInt(3000));
      clock.advance(dt);
      refClock.advance(dt);
      int op = rnd.nextInt(9);
      long id = 1 + rnd.nextInt(step / 2 + 2);
      String node = rnd.nextInt(10) == 0 ? "c" : (rnd.nextBoolean() ? "a" : "b");
      Resources amount = Resources.of(100L * (1 + rnd.nextInt(12)), (long) rnd.nextInt(3) << 30);
      Priority p = prios[rnd.nextInt(prios.length)];
      Duration lease = Duration.ofSeconds(rnd.nextInt(20));
      State init = rnd.nextBoolean() ? State.WARM : State.ACTIVE;
      String owner = "o" + step;
      LedgerCall call = switch (op) {
        case 0, 1 -> l -> l.reserve(owner, node, amount, p, lease, init);
        case 2 -> l -> l.reservePreempting(owner, node, amount, p, lease, init);
        case 3 -> l -> l.activate(id);
        case 4 -> l -> l.resize(id, amount);
        case 5 -> l -> l.renew(id, lease);
        case 6, 7 -> l -> l.release(id);
        default -> l -> l.preemptionPlan(node, amount, p);
      };
      Object expected = outcome(call, ref);
      Object actual = outcome(call, ledger);
      assertThat(actual).as("step %d (op %d)", step, op).isEqualTo(expected);
    }
    LedgerSnapshot want = ref.snapshot();
    LedgerSnapshot got = ledger.snapshot();
    assertThat(got).isEqualTo(want);
    assertThat(events).containsExactlyElementsOf(refEvents);
  }

  @FunctionalInterface
  interface LedgerCall {
    Object call(Ledger l);
  }

  private static Object outcome(LedgerCall call, Ledger l) {
    try {
      return call.call(l);
    } catch (RuntimeException e) {
      return e.getClass().getName() + ": " + e.getMessage();
    }
  }
}
