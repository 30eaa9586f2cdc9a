package dev.penumbra.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation.State;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The book restored from its image goes on exactly like the original: same results, errors, events and ids. */
class LedgerBookTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @ParameterizedTest
  @ValueSource(longs = {11, 12, 13})
  void aRestoredBookGoesOnLikeTheOriginal(long seed) {
    List<LedgerEvent> eventsA = new ArrayList<>();
    LedgerBook a = new LedgerBook(1, eventsA::add);
    a.recordEvents(true);
    a.addNode("x", Resources.of(2000, 1L << 30), T0);
    a.addNode("y", Resources.cpu(1000), T0);
    Random rnd = new Random(seed);
    List<Function<LedgerBook, Object>> script = new ArrayList<>();
    List<Instant> times = new ArrayList<>();
    Instant t = T0;
    for (int i = 0; i < 600; i++) {
      int op = rnd.nextInt(7);
      long id = 1 + rnd.nextInt(i / 2 + 1);
      String node = rnd.nextBoolean() ? "x" : "y";
      Resources amount = Resources.cpu(50 + rnd.nextInt(400));
      Duration lease = Duration.ofSeconds(1 + rnd.nextInt(30));
      Priority p = Priority.values()[rnd.nextInt(3)];
      t = t.plusMillis(rnd.nextInt(2000));
      Instant at = t;
      String owner = "o" + i;
      times.add(at);
      script.add(switch (op) {
        case 0, 1 -> b -> b.reserve(owner, node, amount, p, lease, State.WARM, at);
        case 2 -> b -> b.reservePreempting(owner, node, amount, p, lease, State.ACTIVE, at);
        case 3 -> b -> b.resize(id, amount, at);
        case 4 -> b -> b.renew(id, lease, at);
        case 5 -> b -> b.preemptionPlan(node, amount, p, at);
        default -> b -> b.release(id, at);
      });
    }
    for (int i = 0; i < 300; i++) {
      outcome(a, script.get(i));
    }
    List<LedgerEvent> eventsB = new ArrayList<>();
    LedgerBook b = LedgerBook.restore(a.image(), eventsB::add);
    b.recordEvents(true);
    assertThat(b.image()).isEqualTo(a.image());
    eventsA.clear();
    for (int i = 300; i < 600; i++) {
      assertThat(outcome(b, script.get(i))).as("step %d", i).isEqualTo(outcome(a, script.get(i)));
      assertThat(a.checkInvariant()).isNull();
    }
    assertThat(eventsB).isEqualTo(eventsA).isNotEmpty();
    assertThat(b.snapshot(times.get(599))).isEqualTo(a.snapshot(times.get(599)));
  }

  @org.junit.jupiter.api.Test
  void anInconsistentImageIsRefusedNamingWhatIsWrong() {
    Reservation r = new Reservation(5, "o", "x", Resources.cpu(10), Priority.BATCH, State.ACTIVE, T0,
        T0.plusSeconds(9));
    assertThatThrownBy(() -> LedgerBook.restore(new LedgerBook.Image(9, 1, Map.of(), List.of(r), List.of()), null))
        .hasMessage("reservation 5 is on node 'x', which the image does not hold");
    assertThatThrownBy(() -> LedgerBook.restore(
        new LedgerBook.Image(5, 1, Map.of("x", Resources.cpu(100)), List.of(r), List.of()), null))
        .hasMessage("reservation 5 (ACTIVE) cannot be live with nextId 5");
    assertThatThrownBy(() -> LedgerBook.restore(
        new LedgerBook.Image(9, 1, Map.of("x", Resources.cpu(5)), List.of(r), List.of()), null))
        .hasMessageContaining("breaks the ledger's invariant: node 'x' holds");
  }

  /** What an operation gave, or the error it threw (type and message). */
  private static Object outcome(LedgerBook b, Function<LedgerBook, Object> op) {
    try {
      return op.apply(b);
    } catch (RuntimeException e) {
      return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
  }
}
