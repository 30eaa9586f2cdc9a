package dev.penumbra.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation.State;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LedgerPreemptionTest {

  static final Duration LEASE = Duration.ofMinutes(1);
  ManualClock clock;
  Ledger ledger;

  @BeforeEach
  void setUp() {
    clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    ledger = Ledger.inMemory(clock);
    ledger.addNode("n", Resources.cpu(1000));
  }

  Reservation reserve(long cpu, Priority p, State s) {
    return ledger.reserve("o" + cpu, "n", Resources.cpu(cpu), p, LEASE, s);
  }

  @Test
  void neverTouchesEqualOrHigherPriority() {
    reserve(400, Priority.STANDARD, State.WARM);
    reserve(400, Priority.CRITICAL, State.WARM);
    Reservation batch = reserve(200, Priority.BATCH, State.ACTIVE);
    LedgerSnapshot before = ledger.snapshot();
    // A standard request may take only the batch one (200), not enough for 300.
    assertThatThrownBy(() -> ledger.reservePreempting("s", "n", Resources.cpu(300), Priority.STANDARD, LEASE,
            State.WARM))
        .isInstanceOf(InsufficientCapacityException.class)
        .hasMessageContaining("even by preempting every lower-priority reservation");
    assertThat(ledger.snapshot().reservations()).isEqualTo(before.reservations());
    assertThat(ledger.preemptionPlan("n", Resources.cpu(300), Priority.STANDARD)).isEmpty();
    // A batch request never preempts.
    assertThat(ledger.preemptionPlan("n", Resources.cpu(100), Priority.BATCH)).isEmpty();
    Preemption p = ledger.reservePreempting("s", "n", Resources.cpu(200), Priority.STANDARD, LEASE, State.WARM);
    assertThat(p.victims()).extracting(Reservation::id).containsExactly(batch.id());
    assertThat(p.victims().get(0).state()).isEqualTo(State.PREEMPTED);
    assertThat(ledger.get(batch.id()).orElseThrow().state()).isEqualTo(State.PREEMPTED);
  }

  @Test
  void fitsWithoutPreemptionTakesNothing() {
    reserve(500, Priority.BATCH, State.WARM);
    Preemption p = ledger.reservePreempting("c", "n", Resources.cpu(500), Priority.CRITICAL, LEASE, State.ACTIVE);
    assertThat(p.victims()).isEmpty();
    assertThat(p.reservation().state()).isEqualTo(State.ACTIVE);
  }

  @Test
  void picksFewestVictimsThenCheapest() {
    reserve(100, Priority.BATCH, State.WARM);
    reserve(100, Priority.BATCH, State.WARM);
    reserve(100, Priority.BATCH, State.WARM);
    Reservation big = reserve(300, Priority.STANDARD, State.ACTIVE);
    reserve(400, Priority.CRITICAL, State.ACTIVE);
    // 300 needed: one standard victim beats three batch ones.
    Preemption p = ledger.reservePreempting("c", "n", Resources.cpu(300), Priority.CRITICAL, LEASE, State.WARM);
    assertThat(p.victims()).extracting(Reservation::id).containsExactly(big.id());
  }

  @Test
  void amongEquallyFewPrefersWarmThenLowerPriorityThenSmaller() {
    Reservation activeBatch = reserve(300, Priority.BATCH, State.ACTIVE);
    Reservation warmStandard = reserve(300, Priority.STANDARD, State.WARM);
    Reservation warmBatchBig = reserve(350, Priority.BATCH, State.WARM);
    // free 50, 250 short of 300: each alone covers it; WARM beats ACTIVE, then batch beats standard.
    assertThat(ledger.preemptionPlan("n", Resources.cpu(300), Priority.CRITICAL).orElseThrow())
        .extracting(Reservation::id).containsExactly(warmBatchBig.id());
  }

  @Test
  void amongEquallyFewAndEquallyRankedPrefersTheSmaller() {
    Reservation activeBatch = reserve(300, Priority.BATCH, State.ACTIVE);
    Reservation warm280 = reserve(280, Priority.BATCH, State.WARM);
    Reservation warm260 = reserve(260, Priority.BATCH, State.WARM);
    reserve(160, Priority.STANDARD, State.WARM);
    assertThat(ledger.snapshot().node("n").orElseThrow().free()).isEqualTo(Resources.cpu(0));
    // 250 short: the active 300 and the warm 280 and 260 each cover it; warm first, then the smaller.
    assertThat(ledger.preemptionPlan("n", Resources.cpu(250), Priority.CRITICAL).orElseThrow())
        .extracting(Reservation::id).containsExactly(warm260.id());
    ledger.release(warm260.id());
    ledger.release(warm280.id());
    // Now free 540: 600 needs 60 more; the only lower-priority candidates are the active batch and the
    // warm standard (both cover it); warm beats active even at a higher priority.
    assertThat(ledger.preemptionPlan("n", Resources.cpu(600), Priority.CRITICAL).orElseThrow())
        .extracting(Reservation::priority).containsExactly(Priority.STANDARD);
    assertThat(ledger.get(activeBatch.id()).orElseThrow().state()).isEqualTo(State.ACTIVE);
  }

  @Test
  void coversEveryDimension() {
    Ledger l = Ledger.inMemory(clock);
    l.addNode("m", Resources.of(1000, 1000));
    Reservation cpuHeavy = l.reserve("c", "m", Resources.of(600, 100), Priority.BATCH, LEASE);
    Reservation memHeavy = l.reserve("m", "m", Resources.of(100, 600), Priority.BATCH, LEASE);
    l.reserve("x", "m", Resources.of(250, 250), Priority.BATCH, LEASE);
    // Needs 500 cpu and 500 memory: free is 50/50, so both heavy ones must go (the 250/250 one is not enough).
    Preemption p = l.reservePreempting("c2", "m", Resources.of(500, 500), Priority.STANDARD, LEASE, State.WARM);
    assertThat(p.victims()).extracting(Reservation::id).containsExactlyInAnyOrder(cpuHeavy.id(), memHeavy.id());
    assertThat(l.snapshot().node("m").orElseThrow().used()).isEqualTo(Resources.of(750, 750));
  }

  /** The exact search against brute force over every subset, on random single-node situations. */
  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
  void exactSearchFindsAMinimumSet(long seed) {
    Random rnd = new Random(seed);
    for (int round = 0; round < 40; round++) {
      Ledger l = Ledger.inMemory(clock);
      l.addNode("m", Resources.of(10_000, 10_000));
      List<Reservation> lower = new ArrayList<>();
      int n = 1 + rnd.nextInt(12);
      for (int i = 0; i < n; i++) {
        Resources a = Resources.of(1 + rnd.nextInt(1500), 1 + rnd.nextInt(1500));
        Priority p = rnd.nextBoolean() ? Priority.BATCH : Priority.STANDARD;
        try {
          lower.add(l.reserve("o" + i, "m", a, p, LEASE));
        } catch (InsufficientCapacityException full) {
          break;
        }
      }
      Resources want = Resources.of(1 + rnd.nextInt(10_000), 1 + rnd.nextInt(10_000));
      Resources free = l.snapshot().node("m").orElseThrow().free();
      int best = Integer.MAX_VALUE;
      for (int mask = 0; mask < (1 << lower.size()); mask++) {
        Resources sum = free;
        for (int i = 0; i < lower.size(); i++) {
          if ((mask & (1 << i)) != 0) {
            sum = sum.plus(lower.get(i).amount());
          }
        }
        if (want.fits(sum)) {
          best = Math.min(best, Integer.bitCount(mask));
        }
      }
      var plan = l.preemptionPlan("m", want, Priority.CRITICAL);
      if (best == Integer.MAX_VALUE) {
        assertThat(plan).isEmpty();
        continue;
      }
      assertThat(plan).isPresent();
      assertThat(plan.get()).hasSize(best);
      Set<Long> ids = new HashSet<>();
      plan.get().forEach(r -> ids.add(r.id()));
      assertThat(ids).hasSize(best);
      Preemption done = l.reservePreempting("c", "m", want, Priority.CRITICAL, LEASE, State.WARM);
      assertThat(done.victims()).extracting(Reservation::id).containsExactlyInAnyOrderElementsOf(ids);
    }
  }

  /** Beyond the exact limit the greedy choice still covers the need with lower priorities only. */
  @Test
  void manyCandidatesUseGreedyAndStayCorrect() {
    Ledger l = Ledger.inMemory(clock);
    l.addNode("m", Resources.cpu(10_000));
    for (int i = 0; i < 40; i++) {
      l.reserve("b" + i, "m", Resources.cpu(100 + i), Priority.BATCH, LEASE);
    }
    Reservation crit = l.reserve("c", "m", Resources.cpu(4000), Priority.CRITICAL, LEASE);
    Preemption p = l.reservePreempting("s", "m", Resources.cpu(3000), Priority.STANDARD, LEASE, State.WARM);
    long taken = p.victims().stream().mapToLong(r -> r.amount().cpuMillis()).sum();
    assertThat(p.victims()).allMatch(r -> r.priority() == Priority.BATCH);
    // Free was 10000 - 4780 - 4000 = 1220, so 1780 had to be taken: the largest first (139, 138, ...) needs 14.
    assertThat(taken).isGreaterThanOrEqualTo(1780);
    assertThat(p.victims()).hasSize(14);
    assertThat(l.get(crit.id()).orElseThrow().state()).isEqualTo(State.WARM);
    assertThat(l.snapshot().node("m").orElseThrow().used().cpuMillis()).isLessThanOrEqualTo(10_000);
  }
}
