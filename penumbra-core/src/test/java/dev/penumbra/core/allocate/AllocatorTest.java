package dev.penumbra.core.allocate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Demand;
import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.InsufficientCapacityException;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.ledger.Reservation.State;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AllocatorTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  ManualClock clock;
  Ledger ledger;

  @BeforeEach
  void setUp() {
    clock = new ManualClock(T0);
    ledger = Ledger.inMemory(clock);
  }

  static Demand demand() {
    TreeMap<Double, Resources> q = new TreeMap<>();
    q.put(0.9, Resources.cpu(1500));
    q.put(0.99, Resources.cpu(2500));
    return new Demand(Resources.cpu(1000), q, "test", false);
  }

  @Test
  void sizesByThePriorityQuantile() {
    assertThat(Allocator.size(demand(), Sla.of(Priority.CRITICAL))).isEqualTo(Resources.cpu(2500));
    assertThat(Allocator.size(demand(), Sla.of(Priority.STANDARD))).isEqualTo(Resources.cpu(1500));
    assertThat(Allocator.size(demand(), Sla.of(Priority.BATCH))).isEqualTo(Resources.cpu(1000));
    ledger.addNode("n", Resources.cpu(10_000));
    Allocator alloc = Allocator.builder(ledger).build();
    Reservation r = alloc.request("q1", demand(), Sla.of(Priority.CRITICAL)).future().join();
    assertThat(r.amount()).isEqualTo(Resources.cpu(2500));
    assertThat(r.state()).isEqualTo(State.WARM);
    assertThat(r.priority()).isEqualTo(Priority.CRITICAL);
    assertThat(r.leaseExpiry()).isEqualTo(T0.plus(Duration.ofMinutes(5)));
  }

  @Test
  void feedbackWidensTheHeadroomOfAModelThatOverrunsAtThatPriority() {
    ErrorTracker tracker = new ErrorTracker(100);
    ledger.addNode("n", Resources.cpu(100_000));
    Allocator alloc = Allocator.builder(ledger).feedback(tracker).build();
    // Too few outcomes: the plain quantile.
    for (int i = 0; i < Allocator.MIN_SCORED - 1; i++) {
      alloc.recordOutcome("test", Priority.STANDARD, Resources.cpu(1500), Resources.cpu(2000));
    }
    assertThat(alloc.sizeFor(demand(), Sla.of(Priority.STANDARD))).isEqualTo(Resources.cpu(1500));
    // One more overrun and 15 outcomes within the reservation.
    alloc.recordOutcome("test", Priority.STANDARD, Resources.cpu(1500), Resources.cpu(2000));
    for (int i = 0; i < 15; i++) {
      alloc.recordOutcome("test", Priority.STANDARD, Resources.cpu(1500), Resources.cpu(1000));
    }
    assertThat(tracker.stats("test@standard/cpu").count()).isEqualTo(35);
    // 20 overruns of 35 = 0.571 where standard tolerates 0.10 -> ratio 5.7, capped at 4x: 1000 + 500 * 4.
    assertThat(alloc.sizeFor(demand(), Sla.of(Priority.STANDARD))).isEqualTo(Resources.cpu(3000));
    assertThat(alloc.request("q", demand(), Sla.of(Priority.STANDARD)).future().join().amount())
        .isEqualTo(Resources.cpu(3000));
    // Another priority has its own record (none yet), and so has another model; memory (no outcomes) stays.
    assertThat(alloc.sizeFor(demand(), Sla.of(Priority.CRITICAL))).isEqualTo(Resources.cpu(2500));
    Demand other = new Demand(Resources.of(1000, 10), demand().quantiles(), "other", false);
    assertThat(alloc.sizeFor(other, Sla.of(Priority.STANDARD))).isEqualTo(Resources.of(1500, 10));
  }

  @Test
  void batchOverrunsWidenFromABaseWhenThereIsNoHeadroom() {
    ErrorTracker tracker = new ErrorTracker(100);
    Allocator alloc = Allocator.builder(ledger).feedback(tracker).build();
    for (int i = 0; i < 35; i++) {
      alloc.recordOutcome("test", Priority.BATCH, Resources.cpu(1000), Resources.cpu(i < 20 ? 1200 : 900));
    }
    // 20/35 = 0.571 over batch's 0.5 -> x1.143; no headroom at p50 -> base 5% of 1000 = 50 -> 1000 + 58.
    assertThat(alloc.sizeFor(demand(), Sla.of(Priority.BATCH))).isEqualTo(Resources.cpu(1058));
  }

  @Test
  void aModelWithinItsToleranceIsNotWidenedAndNoTrackerRecordsNothing() {
    ErrorTracker tracker = new ErrorTracker(100);
    Allocator alloc = Allocator.builder(ledger).feedback(tracker).build();
    for (int i = 0; i < 100; i++) {
      alloc.recordOutcome("test", Priority.STANDARD, Resources.cpu(1500), Resources.cpu(i < 5 ? 2000 : 1000));
    }
    assertThat(alloc.sizeFor(demand(), Sla.of(Priority.STANDARD))).isEqualTo(Resources.cpu(1500));
    Allocator plain = Allocator.builder(ledger).build();
    plain.recordOutcome("test", Priority.STANDARD, Resources.cpu(1), Resources.cpu(2));
    assertThat(plain.sizeFor(demand(), Sla.of(Priority.STANDARD))).isEqualTo(Resources.cpu(1500));
    assertThatThrownBy(() -> Allocator.builder(ledger).feedback(null))
        .hasMessageContaining("feedback tracker must not be null");
  }

  @Test
  void bestFitFirstFitWorstFit() {
    List<NodeView> nodes = List.of(
        new NodeView("big", Resources.of(8000, 8000), Resources.ZERO, 0),
        new NodeView("tight", Resources.of(4000, 4000), Resources.of(2500, 1000), 1),
        new NodeView("full", Resources.of(4000, 4000), Resources.of(4000, 0), 1),
        new NodeView("mid", Resources.of(4000, 4000), Resources.of(1000, 1000), 1));
    Resources amount = Resources.of(1000, 1000);
    // Left free share: big max(7000/8000, 7000/8000) = .875; tight max(500/4000, 2000/4000) = .5; mid .5.
    assertThat(Placement.bestFit().choose(amount, nodes)).map(NodeView::id).contains("tight");
    assertThat(Placement.firstFit().choose(amount, nodes)).map(NodeView::id).contains("big");
    assertThat(Placement.worstFit().choose(amount, nodes)).map(NodeView::id).contains("big");
    assertThat(Placement.bestFit().choose(Resources.of(9000, 1), nodes)).isEmpty();

    ledger.addNode("a", Resources.cpu(4000));
    ledger.addNode("b", Resources.cpu(2000));
    Allocator best = Allocator.builder(ledger).build();
    assertThat(best.request("x", Resources.cpu(1500), Sla.of(Priority.BATCH)).future().join().node())
        .isEqualTo("b");
    Allocator worst = Allocator.builder(ledger).placement(Placement.worstFit()).build();
    assertThat(worst.request("y", Resources.cpu(100), Sla.of(Priority.BATCH)).future().join().node())
        .isEqualTo("a");
  }

  @Test
  void queuesByPriorityThenDeadlineThenArrivalAndAdmitsOnRelease() {
    ledger.addNode("n", Resources.cpu(1000));
    Allocator alloc = Allocator.builder(ledger).preemption(false).build();
    Reservation holder = alloc.request("holder", Resources.cpu(1000), Sla.of(Priority.BATCH)).future().join();
    Ticket batch = alloc.request("batch", Resources.cpu(300), Sla.of(Priority.BATCH));
    Ticket stdLate = alloc.request("std-late", Resources.cpu(300), Sla.of(Priority.STANDARD, T0.plusSeconds(90)));
    Ticket stdNoDeadline = alloc.request("std-none", Resources.cpu(300), Sla.of(Priority.STANDARD));
    Ticket stdEarly = alloc.request("std-early", Resources.cpu(300), Sla.of(Priority.STANDARD, T0.plusSeconds(60)));
    Ticket crit = alloc.request("crit", Resources.cpu(300), Sla.of(Priority.CRITICAL));
    assertThat(alloc.queue()).containsExactly(crit, stdEarly, stdLate, stdNoDeadline, batch);
    assertThat(alloc.queue()).noneMatch(Ticket::isDone);

    ledger.release(holder.id());
    // 1000 free: crit, std-early, std-late fit (900); std-none (300) does not and blocks batch.
    assertThat(crit.future().join().owner()).isEqualTo("crit");
    assertThat(stdEarly.isDone()).isTrue();
    assertThat(stdLate.isDone()).isTrue();
    assertThat(stdNoDeadline.isDone()).isFalse();
    assertThat(batch.isDone()).isFalse();
    assertThat(alloc.waiting()).isEqualTo(2);

    ledger.release(crit.future().join().id());
    assertThat(stdNoDeadline.future().join().amount()).isEqualTo(Resources.cpu(300));
    assertThat(batch.isDone()).isFalse();
  }

  @Test
  void bigWaitingRequestBlocksSmallerLowerOnes() {
    ledger.addNode("n", Resources.cpu(1000));
    Allocator alloc = Allocator.builder(ledger).preemption(false).build();
    Reservation holder = alloc.request("holder", Resources.cpu(600), Sla.of(Priority.BATCH)).future().join();
    Ticket big = alloc.request("big", Resources.cpu(800), Sla.of(Priority.STANDARD));
    Ticket small = alloc.request("small", Resources.cpu(100), Sla.of(Priority.BATCH));
    // 400 free would hold the small one, but the big one is ahead: it waits.
    assertThat(small.isDone()).isFalse();
    ledger.release(holder.id());
    assertThat(big.future().join().amount()).isEqualTo(Resources.cpu(800));
    assertThat(small.future().join().amount()).isEqualTo(Resources.cpu(100));
  }

  @Test
  void deadlinePassingWhileQueuedFailsTheTicket() {
    ledger.addNode("n", Resources.cpu(1000));
    Allocator alloc = Allocator.builder(ledger).preemption(false).build();
    alloc.request("holder", Resources.cpu(1000), Sla.of(Priority.BATCH)).future().join();
    Ticket t = alloc.request("late", Resources.cpu(500), Sla.of(Priority.STANDARD, T0.plusSeconds(10)));
    clock.advance(Duration.ofSeconds(10).minusNanos(1));
    alloc.tick();
    assertThat(t.isDone()).isFalse();
    clock.advance(Duration.ofNanos(1));
    alloc.tick();
    assertThat(t.isDone()).isTrue();
    assertThatThrownBy(() -> t.future().join())
        .isInstanceOf(CompletionException.class)
        .cause()
        .isInstanceOf(DeadlineExceededException.class)
        .hasMessageContaining("request 2 of owner 'late'")
        .hasMessageContaining("missed its deadline 2026-01-01T00:00:10Z");
    assertThat(alloc.waiting()).isZero();
  }

  @Test
  void cancelledTicketLeavesTheQueueAndUnblocksOthers() {
    ledger.addNode("n", Resources.cpu(1000));
    Allocator alloc = Allocator.builder(ledger).preemption(false).build();
    alloc.request("holder", Resources.cpu(600), Sla.of(Priority.BATCH)).future().join();
    Ticket big = alloc.request("big", Resources.cpu(800), Sla.of(Priority.STANDARD));
    Ticket small = alloc.request("small", Resources.cpu(100), Sla.of(Priority.BATCH));
    assertThat(big.cancel()).isTrue();
    assertThat(small.future().join().amount()).isEqualTo(Resources.cpu(100));
    assertThatThrownBy(() -> big.future().join()).isInstanceOf(CancellationException.class);
    assertThat(ledger.snapshot().reservations()).extracting(Reservation::owner).containsExactly("holder", "small");
  }

  @Test
  void preemptionOnTakesOnlyStrictlyLowerPriority() {
    ledger.addNode("n", Resources.cpu(1000));
    Allocator alloc = Allocator.builder(ledger).build();
    Reservation batch = alloc.request("batch", Resources.cpu(600), Sla.of(Priority.BATCH)).future().join();
    Reservation std = alloc.request("std", Resources.cpu(400), Sla.of(Priority.STANDARD)).future().join();
    Ticket crit = alloc.request("crit", Resources.cpu(500), Sla.of(Priority.CRITICAL));
    assertThat(crit.future().join().amount()).isEqualTo(Resources.cpu(500));
    assertThat(ledger.get(batch.id()).orElseThrow().state()).isEqualTo(State.PREEMPTED);
    assertThat(ledger.get(std.id()).orElseThrow().state()).isEqualTo(State.WARM);
    // An equal priority never preempts: it waits.
    Ticket crit2 = alloc.request("crit2", Resources.cpu(600), Sla.of(Priority.CRITICAL));
    assertThat(crit2.isDone()).isFalse();
  }

  @Test
  void preemptionOffWaitsInstead() {
    ledger.addNode("n", Resources.cpu(1000));
    Allocator alloc = Allocator.builder(ledger).preemption(false).build();
    Reservation batch = alloc.request("batch", Resources.cpu(600), Sla.of(Priority.BATCH)).future().join();
    Ticket crit = alloc.request("crit", Resources.cpu(500), Sla.of(Priority.CRITICAL));
    assertThat(crit.isDone()).isFalse();
    assertThat(ledger.get(batch.id()).orElseThrow().state()).isEqualTo(State.WARM);
    clock.advance(Duration.ofMinutes(5)); // the batch lease runs out
    alloc.tick();
    assertThat(crit.future().join().amount()).isEqualTo(Resources.cpu(500));
  }

  @Test
  void preemptionChoosesTheNodeNeedingFewestVictims() {
    ledger.addNode("a", Resources.cpu(1000));
    ledger.addNode("b", Resources.cpu(1000));
    Allocator alloc = Allocator.builder(ledger).placement(Placement.firstFit()).build();
    for (int i = 0; i < 4; i++) {
      alloc.request("a" + i, Resources.cpu(250), Sla.of(Priority.BATCH)).future().join();
    }
    alloc.request("b-big", Resources.cpu(900), Sla.of(Priority.BATCH)).future().join();
    alloc.request("b-small", Resources.cpu(100), Sla.of(Priority.BATCH)).future().join();
    Reservation r = alloc.request("crit", Resources.cpu(700), Sla.of(Priority.CRITICAL)).future().join();
    assertThat(r.node()).isEqualTo("b");
    assertThat(ledger.snapshot().reservationsOn("a")).hasSize(4);
    assertThat(ledger.snapshot().reservationsOn("b")).extracting(Reservation::owner)
        .containsExactly("b-small", "crit");
  }

  @Test
  void requestNoNodeCanEverHoldFailsAtOnce() {
    ledger.addNode("n", Resources.cpu(1000));
    Allocator alloc = Allocator.builder(ledger).build();
    Ticket t = alloc.request("huge", Resources.cpu(1001), Sla.of(Priority.CRITICAL));
    assertThatThrownBy(() -> t.future().join()).cause()
        .isInstanceOf(InsufficientCapacityException.class)
        .hasMessageContaining("can never be placed");
    assertThatThrownBy(() -> alloc.request(null, Resources.cpu(1), Sla.of(Priority.BATCH)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("owner must not be null or blank, was null");
    assertThatThrownBy(() -> new Sla(null, null)).hasMessage("sla priority must not be null");
  }

  @Test
  void closeFailsWaitingTickets() {
    ledger.addNode("n", Resources.cpu(100));
    Allocator alloc = Allocator.builder(ledger).build();
    alloc.request("a", Resources.cpu(100), Sla.of(Priority.CRITICAL)).future().join();
    Ticket t = alloc.request("b", Resources.cpu(100), Sla.of(Priority.CRITICAL));
    alloc.close();
    assertThatThrownBy(() -> t.future().join()).cause().isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("allocator closed");
  }
}
