package dev.penumbra.core.allocate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Admission earliest virtual deadline first (Allocator.Builder#virtualDeadlines). */
class VirtualDeadlineTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final Map<Priority, Duration> SLACK = Map.of(Priority.CRITICAL, Duration.ZERO,
      Priority.STANDARD, Duration.ofSeconds(2), Priority.BATCH, Duration.ofSeconds(5));

  ManualClock clock;
  Ledger ledger;
  Allocator alloc;
  Reservation running;

  @BeforeEach
  void setUp() {
    clock = new ManualClock(T0);
    ledger = Ledger.inMemory(clock);
    ledger.addNode("n", Resources.cpu(1000));
    alloc = Allocator.builder(ledger).preemption(false).virtualDeadlines(t -> SLACK.get(t.sla().priority())).build();
    // One slot, taken: everything after waits (no preemption, so the order alone decides).
    running = alloc.request("running", Resources.cpu(1000), Sla.of(Priority.BATCH)).future().join();
  }

  private Ticket at(long seconds, String owner, Priority p) {
    clock.set(T0.plusSeconds(seconds));
    return alloc.request(owner, Resources.cpu(1000), Sla.of(p));
  }

  private List<String> order() {
    return alloc.queue().stream().map(Ticket::owner).toList();
  }

  @Test
  void aLaterHigherPriorityOvertakesOnlyWithinTheSlack() {
    Ticket batch = at(0, "batch", Priority.BATCH);
    at(1, "standard", Priority.STANDARD);
    at(4, "critical-in-slack", Priority.CRITICAL);
    at(6, "critical-after-slack", Priority.CRITICAL);
    assertThat(batch.virtualDeadline()).isEqualTo(T0.plusSeconds(5));
    // Virtual deadlines 5, 4, 6, 3.
    assertThat(order()).containsExactly("standard", "critical-in-slack", "batch", "critical-after-slack");
  }

  @Test
  void releasesAdmitInVirtualDeadlineOrderNotPriority() {
    Ticket batch = at(0, "batch", Priority.BATCH);
    Ticket late = at(10, "critical-late", Priority.CRITICAL);
    ledger.release(running.id());
    // The batch request waited past its slack: the critical one that came after that does not pass it.
    assertThat(batch.future()).isCompleted();
    assertThat(late.isDone()).isFalse();
    ledger.release(batch.future().join().id());
    assertThat(late.future()).isCompleted();
  }

  @Test
  void zeroSlackEverywhereIsArrivalOrder() {
    Allocator fifo = Allocator.builder(Ledger.inMemory(clock)).preemption(false)
        .virtualDeadlines(t -> Duration.ZERO).build();
    fifo.ledger().addNode("n", Resources.cpu(1000));
    fifo.request("first", Resources.cpu(1000), Sla.of(Priority.BATCH)).future().join();
    fifo.request("b", Resources.cpu(1000), Sla.of(Priority.BATCH));
    clock.advance(Duration.ofMillis(1));
    fifo.request("c", Resources.cpu(1000), Sla.of(Priority.CRITICAL));
    fifo.request("s", Resources.cpu(1000), Sla.of(Priority.STANDARD));
    assertThat(fifo.queue().stream().map(Ticket::owner).toList()).containsExactly("b", "c", "s");
  }

  @Test
  void withoutTheOptionPriorityComesFirstAndTheVirtualDeadlineIsTheArrival() {
    Ledger l = Ledger.inMemory(clock);
    l.addNode("n", Resources.cpu(1000));
    Allocator plain = Allocator.builder(l).preemption(false).build();
    plain.request("first", Resources.cpu(1000), Sla.of(Priority.BATCH)).future().join();
    Ticket b = plain.request("b", Resources.cpu(1000), Sla.of(Priority.BATCH));
    clock.advance(Duration.ofSeconds(100));
    plain.request("c", Resources.cpu(1000), Sla.of(Priority.CRITICAL));
    assertThat(plain.queue().stream().map(Ticket::owner).toList()).containsExactly("c", "b");
    assertThat(b.virtualDeadline()).isEqualTo(b.arrival());
  }

  @Test
  void theRealDeadlineBreaksTiesAndStillFailsAWaitingRequest() {
    clock.set(T0);
    Ticket x = alloc.request("x", Resources.cpu(1000), Sla.of(Priority.STANDARD));
    Ticket y = alloc.request("y", Resources.cpu(1000), Sla.of(Priority.STANDARD, T0.plusSeconds(1)));
    assertThat(order()).containsExactly("y", "x");
    clock.advance(Duration.ofSeconds(1));
    alloc.tick();
    assertThat(y.future()).isCompletedExceptionally();
    assertThat(order()).containsExactly("x");
  }

  @Test
  void aNegativeOrMissingSlackIsRefusedNamingTheRequest() {
    Allocator bad = Allocator.builder(ledger).virtualDeadlines(t -> Duration.ofSeconds(-1)).build();
    assertThatThrownBy(() -> bad.request("q7", Resources.cpu(1), Sla.of(Priority.BATCH)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("slack for request 1 of owner 'q7'").hasMessageContaining("was PT-1S");
    Allocator none = Allocator.builder(ledger).virtualDeadlines(t -> null).build();
    assertThatThrownBy(() -> none.request("q8", Resources.cpu(1), Sla.of(Priority.BATCH)))
        .hasMessageContaining("must be >= 0, was null");
    assertThatThrownBy(() -> Allocator.builder(ledger).virtualDeadlines(null))
        .hasMessageContaining("slack must not be null");
    assertThat(bad.waiting()).isZero();
  }

  @Test
  void anotherAllocatorOnTheLedgerAndThisOneDoNotBlockEachOtherForEver() {
    // Ours: a batch request first by virtual deadline, a critical one behind it. Theirs (priority order): a standard
    // one, after our critical one and before our batch one in the ledger-wide order. Each would see the other's
    // request ahead of its own head and ask the other for a pass, for ever (a stack overflow in a server).
    Allocator theirs = Allocator.builder(ledger).preemption(false).build();
    Ticket batch = at(0, "batch", Priority.BATCH);
    Ticket critical = at(6, "critical", Priority.CRITICAL);
    clock.set(T0.plusSeconds(7));
    Ticket standard = theirs.request("standard", Resources.cpu(1000), Sla.of(Priority.STANDARD));
    ledger.release(running.id());
    // Our first request in the ledger-wide order (the critical one) comes first, so we go on in our own order.
    assertThat(batch.future()).isCompleted();
    assertThat(critical.isDone()).isFalse();
    assertThat(standard.isDone()).isFalse();
    ledger.release(batch.future().join().id());
    assertThat(critical.future()).isCompleted();
    ledger.release(critical.future().join().id());
    assertThat(standard.future()).isCompleted();
  }
}
