package dev.penumbra.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Allocator;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.allocate.Ticket;
import dev.penumbra.core.ledger.Ledger;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class QueryAdmissionTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final long MS = 1_000_000L;

  ManualClock clock;
  Ledger ledger;

  @BeforeEach
  void setUp() {
    clock = new ManualClock(T0);
    ledger = Ledger.inMemory(clock);
    // One query at a time: the first holds it, the rest wait in the admission order.
    ledger.addNode("n", Resources.of(1000, 1000));
  }

  private Allocator allocator(QueryAdmission a) {
    return Allocator.builder(ledger).preemption(false).virtualDeadlines(a.slack()).build();
  }

  private Ticket submit(Allocator alloc, QueryAdmission a, String owner, Priority p, long wallMs) {
    a.arrive(owner, wallMs * MS);
    return alloc.request(owner, Resources.of(1000, 1000), Sla.of(p));
  }

  @Test
  void queueDesignGivesALowerPriorityWhatFifoWouldMakeItWaitAsSlack() {
    QueryAdmission a = new QueryAdmission(QueryAdmission.Design.QUEUE, 0.5, 1.0, 2);
    Allocator alloc = allocator(a);
    submit(alloc, a, "running", Priority.BATCH, 400);
    // 400 ms of work in the gateway over 2 cores: FIFO would make it wait about 200 ms.
    Ticket batch = submit(alloc, a, "batch", Priority.BATCH, 100);
    assertThat(batch.virtualDeadline()).isEqualTo(T0.plusMillis(200));
    // 500 ms ahead now, standard's factor 0.5: 125 ms.
    Ticket standard = submit(alloc, a, "standard", Priority.STANDARD, 100);
    assertThat(standard.virtualDeadline()).isEqualTo(T0.plusMillis(125));
    clock.advance(Duration.ofMillis(150));
    Ticket early = submit(alloc, a, "critical-early", Priority.CRITICAL, 100);
    clock.advance(Duration.ofMillis(100));
    Ticket late = submit(alloc, a, "critical-late", Priority.CRITICAL, 100);
    assertThat(early.virtualDeadline()).isEqualTo(T0.plusMillis(150));
    // The standard query passes the critical one that came after its slack; the batch one is passed by the
    // critical query within its slack only.
    assertThat(alloc.queue().stream().map(Ticket::owner).toList())
        .containsExactly("standard", "critical-early", "batch", "critical-late");
    assertThat(late.virtualDeadline()).isEqualTo(T0.plusMillis(250));
  }

  @Test
  void aQueryThatLeftNoLongerCountsInTheWorkAhead() {
    QueryAdmission a = new QueryAdmission(QueryAdmission.Design.QUEUE, 0.5, 1.0, 2);
    Allocator alloc = allocator(a);
    submit(alloc, a, "running", Priority.BATCH, 400);
    a.leave("running");
    assertThat(submit(alloc, a, "batch", Priority.BATCH, 100).virtualDeadline()).isEqualTo(T0);
  }

  @Test
  void serviceDesignScalesTheQuerysOwnPredictedTime() {
    QueryAdmission a = new QueryAdmission(QueryAdmission.Design.SERVICE, 2, 4, 2);
    Allocator alloc = allocator(a);
    submit(alloc, a, "running", Priority.BATCH, 400);
    assertThat(submit(alloc, a, "batch", Priority.BATCH, 100).virtualDeadline()).isEqualTo(T0.plusMillis(400));
    assertThat(submit(alloc, a, "standard", Priority.STANDARD, 100).virtualDeadline())
        .isEqualTo(T0.plusMillis(200));
    assertThat(submit(alloc, a, "critical", Priority.CRITICAL, 100).virtualDeadline()).isEqualTo(T0);
  }

  @Test
  void priorityDesignLeavesTheAllocatorsOwnOrder() {
    assertThat(new QueryAdmission(QueryAdmission.Design.PRIORITY, 0.5, 1, 2).slack()).isNull();
  }

  @Test
  void badSettingsNameThePropertyAndTheValue() {
    assertThatThrownBy(() -> QueryAdmission.Design.parse("fair"))
        .hasMessageContaining("penumbra.query.admission").hasMessageContaining("'fair'");
    assertThat(QueryAdmission.Design.parse(" Queue ")).isEqualTo(QueryAdmission.Design.QUEUE);
    assertThatThrownBy(() -> QueryAdmission.factors("1"))
        .hasMessageContaining("penumbra.query.slack").hasMessageContaining("'1'");
    assertThatThrownBy(() -> QueryAdmission.factors("1,x")).hasMessageContaining("'1,x'");
    assertThatThrownBy(() -> QueryAdmission.factors("1,-2")).hasMessageContaining(">= 0, was '1,-2'");
    assertThatThrownBy(() -> QueryAdmission.factors("NaN,1")).hasMessageContaining("'NaN,1'");
    assertThat(QueryAdmission.factors("0.5, 1")).containsExactly(0.5, 1.0);
    assertThatThrownBy(() -> new QueryAdmission(QueryAdmission.Design.QUEUE, -1, 1, 2))
        .hasMessageContaining("standard -1.0");
  }
}
