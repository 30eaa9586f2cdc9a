package dev.penumbra.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.LedgerEvent.Type;
import dev.penumbra.core.ledger.Reservation.State;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Many threads doing random operations: the capacity invariant holds after every step, and the event stream
 * replays to exactly the final state with every reservation ending in one state.
 */
class LedgerConcurrencyTest {

  static final Priority[] PRIORITIES = Priority.values();
  static final int NODES = 3;

  @ParameterizedTest(name = "seed {0}, {1} threads")
  @CsvSource({"1, 4", "2, 4", "3, 6", "4, 8", "5, 4"})
  void invariantHoldsAndEventsReplayToTheSnapshot(long seed, int threads) throws Exception {
    ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    Ledger ledger = Ledger.inMemory(clock);
    List<LedgerEvent> events = Collections.synchronizedList(new ArrayList<>());
    ledger.subscribe(events::add);
    Map<String, Resources> capacity = new HashMap<>();
    for (int i = 0; i < NODES; i++) {
      Resources c = Resources.of(4000 + 1000L * i, 8000 - 1000L * i);
      capacity.put("n" + i, c);
      ledger.addNode("n" + i, c);
    }

    int opsPerThread = 1000;
    CyclicBarrier start = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<Integer>> results = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Random rnd = new Random(seed * 1000 + t);
      results.add(pool.submit(() -> {
        start.await();
        List<Long> mine = new ArrayList<>();
        int done = 0;
        for (int i = 0; i < opsPerThread; i++) {
          if (step(ledger, clock, rnd, mine, "t" + Thread.currentThread().getId())) {
            done++;
          }
          checkInvariant(ledger.snapshot(), capacity);
        }
        return done;
      }));
    }
    pool.shutdown();
    int succeeded = 0;
    for (Future<Integer> f : results) {
      succeeded += f.get(60, TimeUnit.SECONDS);
    }
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    assertThat(succeeded).as("operations that changed something").isGreaterThan(threads * opsPerThread / 4);

    LedgerSnapshot end = ledger.snapshot();
    checkInvariant(end, capacity);
    List<LedgerEvent> log = new ArrayList<>(events);
    assertThat(log).isNotEmpty();
    for (int i = 0; i < log.size(); i++) {
      assertThat(log.get(i).sequence()).as("event %d delivered in order", i).isEqualTo(i + 1L);
    }
    assertThat(end.sequence()).isEqualTo(log.get(log.size() - 1).sequence());

    // Replay.
    Map<Long, Reservation> live = new HashMap<>();
    Map<Long, State> endedIn = new HashMap<>();
    Map<String, long[]> used = new HashMap<>();
    capacity.keySet().forEach(n -> used.put(n, new long[2]));
    Set<Type> seenTypes = new HashSet<>();
    for (LedgerEvent e : log) {
      seenTypes.add(e.type());
      if (e.type() == Type.NODE_ADDED || e.type() == Type.NODE_REMOVED) {
        continue;
      }
      long id = e.after().id();
      assertThat(endedIn).as("no event after reservation %d ended", id).doesNotContainKey(id);
      long[] u = used.get(e.node());
      if (e.type() == Type.RESERVED) {
        assertThat(live).as("reservation %d reserved once", id).doesNotContainKey(id);
        assertThat(e.before()).isNull();
      } else {
        assertThat(live.get(id)).as("before of event %d", e.sequence()).isEqualTo(e.before());
        u[0] -= e.before().amount().cpuMillis();
        u[1] -= e.before().amount().memoryBytes();
      }
      if (e.after().isLive()) {
        live.put(id, e.after());
        u[0] += e.after().amount().cpuMillis();
        u[1] += e.after().amount().memoryBytes();
      } else {
        live.remove(id);
        endedIn.put(id, e.after().state());
      }
      Resources cap = capacity.get(e.node());
      assertThat(u[0]).isBetween(0L, cap.cpuMillis());
      assertThat(u[1]).isBetween(0L, cap.memoryBytes());
    }
    Map<Long, Reservation> inSnapshot = new HashMap<>();
    end.reservations().forEach(r -> inSnapshot.put(r.id(), r));
    assertThat(live).isEqualTo(inSnapshot);
    assertThat(endedIn.keySet()).doesNotContainAnyElementsOf(live.keySet());
    for (NodeView n : end.nodes()) {
      assertThat(new long[] {n.used().cpuMillis(), n.used().memoryBytes()}).containsExactly(used.get(n.id()));
    }
    // The mix really exercised every kind of change.
    assertThat(seenTypes).contains(Type.RESERVED, Type.ACTIVATED, Type.RESIZED, Type.RENEWED, Type.RELEASED,
        Type.EXPIRED, Type.PREEMPTED);
  }

  /** One random operation; true when it changed the ledger. Expected refusals are part of the mix. */
  private static boolean step(Ledger ledger, ManualClock clock, Random rnd, List<Long> mine, String owner) {
    int op = rnd.nextInt(100);
    String node = "n" + rnd.nextInt(NODES);
    Resources amount = Resources.of(1 + rnd.nextInt(1500), 1 + rnd.nextInt(2500));
    Priority p = PRIORITIES[rnd.nextInt(PRIORITIES.length)];
    Duration lease = Duration.ofMillis(200 + rnd.nextInt(2000));
    long id = mine.isEmpty() ? -1 : mine.get(rnd.nextInt(mine.size()));
    try {
      if (op < 30) {
        mine.add(ledger.reserve(owner, node, amount, p, lease, rnd.nextBoolean() ? State.WARM : State.ACTIVE).id());
      } else if (op < 42) {
        Preemption pr = ledger.reservePreempting(owner, node, amount, p, lease, State.WARM);
        for (Reservation v : pr.victims()) {
          assertThat(p.outranks(v.priority())).as("victim %s of %s", v, p).isTrue();
        }
        mine.add(pr.reservation().id());
      } else if (op < 54 && id > 0) {
        ledger.activate(id);
      } else if (op < 66 && id > 0) {
        ledger.resize(id, amount);
      } else if (op < 74 && id > 0) {
        ledger.renew(id, lease);
      } else if (op < 90 && id > 0) {
        ledger.release(id);
        mine.remove(id);
      } else if (op < 97) {
        clock.advance(Duration.ofMillis(rnd.nextInt(150)));
        ledger.expireDue();
      } else {
        return ledger.expireDue() > 0;
      }
      return true;
    } catch (InsufficientCapacityException refused) {
      return false;
    } catch (IllegalStateException ended) {
      // Another thread expired or preempted it, or it was not WARM: forget it when it is over.
      if (!ended.getMessage().contains("only a WARM")) {
        mine.remove(id);
      }
      return false;
    }
  }

  private static void checkInvariant(LedgerSnapshot s, Map<String, Resources> capacity) {
    Map<String, Resources> sum = new HashMap<>();
    for (Reservation r : s.reservations()) {
      assertThat(r.isLive()).isTrue();
      assertThat(r.leaseExpiry()).isAfter(s.time());
      sum.merge(r.node(), r.amount(), Resources::plus);
    }
    for (NodeView n : s.nodes()) {
      Resources total = sum.getOrDefault(n.id(), Resources.ZERO);
      assertThat(n.used()).isEqualTo(total);
      assertThat(total.fits(capacity.get(n.id()))).as("node %s holds %s of %s", n.id(), total, n.capacity()).isTrue();
    }
  }
}
