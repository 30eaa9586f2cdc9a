package dev.penumbra.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Allocator;
import dev.penumbra.core.allocate.DeadlineExceededException;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.allocate.Ticket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class LedgerTimerTest {
  final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
  final Ledger ledger = Ledger.inMemory(clock);
  final List<LedgerEvent> events = new CopyOnWriteArrayList<>();

  LedgerTimerTest() {
    ledger.addNode("n1", Resources.of(2000, 1L << 30));
    ledger.subscribe(events::add);
  }

  boolean expired(long id) {
    return events.stream().anyMatch(e -> e.type() == LedgerEvent.Type.EXPIRED && e.before().id() == id);
  }

  @Test
  void aLeaseExpiresWhenItsTimeComesWithoutAnyoneTouchingTheLedger() {
    Reservation r = ledger.reserve("a", "n1", Resources.of(1000, 1L << 20), Priority.BATCH, Duration.ofSeconds(3));
    try (LedgerTimer timer = LedgerTimer.start(ledger, Duration.ofMillis(5))) {
      clock.advance(Duration.ofMillis(2999));
      timer.runOnce();
      assertThat(expired(r.id())).as("not one nanosecond early").isFalse();
      clock.advance(Duration.ofMillis(1));
      await().atMost(Duration.ofSeconds(5)).until(() -> expired(r.id()));
      assertThat(events).filteredOn(e -> e.type() == LedgerEvent.Type.EXPIRED).first()
          .extracting(LedgerEvent::time).isEqualTo(Instant.parse("2026-01-01T00:00:03Z"));
    }
  }

  @Test
  void aRequestWhoseDeadlinePassesWhileWaitingFailsOnTheTimersPass() throws Exception {
    Allocator allocator = Allocator.builder(ledger).clock(clock).build();
    ledger.reserve("hog", "n1", Resources.of(2000, 1L << 30), Priority.CRITICAL, Duration.ofHours(1));
    Ticket t = allocator.request("late", Resources.of(1000, 1L << 20),
        Sla.of(Priority.STANDARD, clock.instant().plusSeconds(2)));
    try (LedgerTimer timer = LedgerTimer.start(ledger, Duration.ofMillis(5))) {
      timer.add(allocator::tick);
      timer.runOnce();
      assertThat(t.future()).isNotDone();
      clock.advance(Duration.ofSeconds(2));
      await().atMost(Duration.ofSeconds(5)).until(() -> t.future().isDone());
      assertThat(t.future()).isCompletedExceptionally();
      try {
        t.future().get();
      } catch (ExecutionException e) {
        assertThat(e.getCause()).isInstanceOf(DeadlineExceededException.class);
      }
    } finally {
      allocator.close();
    }
  }

  @Test
  void aFailingTickDoesNotStopTheOthers() {
    int[] ran = {0};
    try (LedgerTimer timer = LedgerTimer.start(ledger, Duration.ofHours(1))) {
      timer.add(() -> {
        throw new IllegalStateException("boom");
      });
      timer.add(() -> ran[0]++);
      timer.runOnce();
      assertThat(ran[0]).isEqualTo(1);
    }
  }
}
