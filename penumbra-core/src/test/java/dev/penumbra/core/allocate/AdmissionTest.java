package dev.penumbra.core.allocate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Several allocators on one ledger (one per capability in the server) admit in one order. */
class AdmissionTest {

  final Ledger ledger = Ledger.inMemory(new ManualClock(Instant.parse("2026-01-01T00:00:00Z")));

  @Test
  void aLargerRequestOfAHigherPriorityIsNotStarvedByAnotherAllocatorsStreamOfSmallOnes() {
    ledger.addNode("n", Resources.cpu(2000));
    Allocator small = Allocator.builder(ledger).preemption(false).build();
    Allocator large = Allocator.builder(ledger).preemption(false).build();
    List<Reservation> held = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      held.add(small.request("scan" + i, Resources.cpu(200), Sla.of(Priority.BATCH)).future().join());
    }
    Ticket query = large.request("query", Resources.cpu(1000), Sla.of(Priority.STANDARD));
    assertThat(query.isDone()).isFalse();
    // The small ones keep coming: each release would go to the next of them without a shared order.
    List<Ticket> more = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ledger.release(held.remove(0).id());
      more.add(small.request("scan-more" + i, Resources.cpu(200), Sla.of(Priority.BATCH)));
    }
    assertThat(query.isDone()).as("the query is placed once five scans released their 1000").isTrue();
    assertThat(query.future().join().amount()).isEqualTo(Resources.cpu(1000));
    assertThat(more).noneMatch(Ticket::isDone);
    assertThat(small.waiting()).isEqualTo(5);
  }

  @Test
  void aRequestAheadInAnotherAllocatorBlocksOnlyThoseBehindIt() {
    ledger.addNode("n", Resources.cpu(1000));
    Allocator a = Allocator.builder(ledger).preemption(false).build();
    Allocator b = Allocator.builder(ledger).preemption(false).build();
    Reservation first = a.request("first", Resources.cpu(800), Sla.of(Priority.BATCH)).future().join();
    Ticket big = b.request("big", Resources.cpu(500), Sla.of(Priority.BATCH));
    Ticket critical = a.request("critical", Resources.cpu(100), Sla.of(Priority.CRITICAL));
    Ticket behind = a.request("behind", Resources.cpu(100), Sla.of(Priority.BATCH));
    // A critical request comes before the waiting batch one and fits: it goes; the batch one behind waits.
    assertThat(critical.isDone()).isTrue();
    assertThat(behind.isDone()).isFalse();
    ledger.release(first.id());
    assertThat(big.isDone()).isTrue();
    assertThat(behind.isDone()).isTrue();
    // A cancelled request ahead no longer blocks anyone.
    Ticket blocker = b.request("blocker", Resources.cpu(900), Sla.of(Priority.BATCH));
    Ticket next = a.request("next", Resources.cpu(100), Sla.of(Priority.BATCH));
    assertThat(next.isDone()).isFalse();
    blocker.cancel();
    assertThat(next.isDone()).isTrue();
    b.close();
    a.close();
  }
}
