package dev.penumbra.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.InsufficientCapacityException;
import dev.penumbra.core.ledger.LedgerSnapshot;
import dev.penumbra.core.ledger.Reservation;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Faults injected with Ratis' own test cluster while clients reserve and release: the leader killed and
 * restarted, the leader partitioned from the others (its requests blocked) and healed. A history of every
 * client operation is recorded and checked afterwards: every acknowledged reservation is in the final state
 * exactly once (and every acknowledged release is out of it), no read goes back in time, every replica's audit
 * found the per-node invariant (live <= capacity, running sums right) at every applied index, and the replicas
 * agree. Bounded: a fixed number of operations per client, a fixed number of faults, a deadline.
 */
class ClusterFaultTest {

  static final int NODES = 4;
  static final long CAPACITY = 1000;
  static final int WORKERS = 3;
  static final int OPS_PER_WORKER = 120;
  static final int FAULTS = 4;
  static final Duration LEASE = Duration.ofHours(1);

  /** One completed client operation. */
  record Done(String kind, String owner, long id, long invokedNanos, long completedNanos, String outcome) {}

  /** One completed read: the ledger sequence it saw. */
  record Read(long invokedNanos, long completedNanos, long sequence) {}

  @Test
  @Timeout(120)
  void acknowledgedOperationsSurviveLeaderKillsAndPartitionsExactlyOnce() throws Exception {
    try (TestGroup g = new TestGroup(3, 150)) {
      ClusterLedger admin = g.client(Clock.systemUTC(), ClusterLedger.Options.DEFAULTS);
      for (int i = 0; i < NODES; i++) {
        admin.addNode("n" + i, Resources.cpu(CAPACITY));
      }
      ConcurrentLinkedQueue<Done> history = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<Read> reads = new ConcurrentLinkedQueue<>();
      AtomicInteger completed = new AtomicInteger();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      AtomicReference<Throwable> crash = new AtomicReference<>();

      List<Thread> threads = new ArrayList<>();
      for (int w = 0; w < WORKERS; w++) {
        int worker = w;
        // One client sends from its callers' threads when idle (direct send), so that path meets the faults too.
        ClusterLedger client = g.client(Clock.systemUTC(),
            ClusterLedger.Options.DEFAULTS.withTimeout(Duration.ofSeconds(15)).withDirectSend(w == 1));
        threads.add(Thread.ofPlatform().name("worker-" + w).start(() -> {
          Random rnd = new Random(17 + worker);
          List<Long> held = new ArrayList<>();
          for (int op = 0; op < OPS_PER_WORKER && System.nanoTime() < deadline; op++) {
            String owner = "w" + worker + "-" + op;
            long t0 = System.nanoTime();
            if (held.isEmpty() || rnd.nextInt(3) > 0) {
              String node = "n" + rnd.nextInt(NODES);
              try {
                Reservation r = client.reserve(owner, node, Resources.cpu(50 + rnd.nextInt(350)),
                    Priority.STANDARD, LEASE);
                held.add(r.id());
                history.add(new Done("reserve", owner, r.id(), t0, System.nanoTime(), "ok"));
              } catch (InsufficientCapacityException e) {
                history.add(new Done("reserve", owner, -1, t0, System.nanoTime(), "full"));
              } catch (IllegalStateException e) {
                history.add(new Done("reserve", owner, -1, t0, System.nanoTime(), "unknown"));
              }
            } else {
              long id = held.remove(rnd.nextInt(held.size()));
              try {
                client.release(id);
                history.add(new Done("release", owner, id, t0, System.nanoTime(), "ok"));
              } catch (RuntimeException e) {
                history.add(new Done("release", owner, id, t0, System.nanoTime(), "unknown"));
              }
            }
            completed.incrementAndGet();
          }
        }));
      }
      ClusterLedger reader = g.client(Clock.systemUTC(),
          ClusterLedger.Options.DEFAULTS.withTimeout(Duration.ofSeconds(15)));
      Thread readerThread = Thread.ofPlatform().name("reader").start(() -> {
        while (threads.stream().anyMatch(Thread::isAlive) && System.nanoTime() < deadline) {
          long t0 = System.nanoTime();
          try {
            long seq = reader.snapshot().sequence();
            reads.add(new Read(t0, System.nanoTime(), seq));
          } catch (RuntimeException e) {
            // a read that did not complete says nothing
          }
        }
      });

      // The faults: kill/restart the leader and partition/heal it, each after the clients made progress.
      List<String> faults = new ArrayList<>();
      for (int f = 0; f < FAULTS; f++) {
        int target = (f + 1) * WORKERS * OPS_PER_WORKER / (FAULTS + 2);
        await().atMost(Duration.ofSeconds(40)).until(() -> completed.get() >= target
            || threads.stream().noneMatch(Thread::isAlive));
        RaftPeerId leader = awaitLeader(g);
        if (f % 2 == 0) {
          g.cluster.killServer(leader);
          RaftPeerId next = awaitLeader(g);
          faults.add("killed " + leader + ", new leader " + next);
          g.cluster.restartServer(leader, false);
        } else {
          g.cluster.setBlockRequestsFrom(leader.toString(), true);
          RaftPeerId next = await().atMost(Duration.ofSeconds(20))
              .until(() -> leaderOrNull(g), id -> id != null && !id.equals(leader));
          faults.add("partitioned " + leader + ", new leader " + next);
          g.cluster.setBlockRequestsFrom(leader.toString(), false);
        }
      }
      for (Thread t : threads) {
        t.join(Duration.ofSeconds(60));
      }
      readerThread.join(Duration.ofSeconds(30));
      assertThat(crash.get()).isNull();
      assertThat(faults).hasSize(FAULTS);

      // The final state, read through the log by a fresh client.
      ClusterLedger checker = g.client(Clock.systemUTC(), ClusterLedger.Options.DEFAULTS);
      LedgerSnapshot fin = checker.snapshot();
      checkHistory(new ArrayList<>(history), fin);
      checkReads(new ArrayList<>(reads), new ArrayList<>(history));
      assertThat(g.invariantBreach()).as("invariant breach").isNull();
      assertThat(g.invariantChecks()).isGreaterThan(100);

      // Every live replica applies the same log to the same state.
      long index = g.cluster.getDivision(awaitLeader(g)).getInfo().getLastAppliedIndex();
      await().atMost(Duration.ofSeconds(20)).until(() -> g.cluster.getServerAliveStream()
          .allMatch(d -> d.getInfo().getLastAppliedIndex() >= index));
      List<LedgerSnapshot> replicas = g.cluster.getServerAliveStream()
          .map(d -> ((LedgerStateMachine) d.getStateMachine()).localSnapshot()).toList();
      assertThat(replicas).hasSize(3);
      for (LedgerSnapshot s : replicas) {
        assertThat(s.reservations()).isEqualTo(replicas.get(0).reservations());
        assertThat(s.nodes()).isEqualTo(replicas.get(0).nodes());
      }

      // A restart of every replica (log and snapshots on disk) brings the same ledger back.
      g.cluster.restart(false);
      awaitLeader(g);
      ClusterLedger after = g.client(Clock.systemUTC(), ClusterLedger.Options.DEFAULTS);
      LedgerSnapshot back = after.snapshot();
      assertThat(back.reservations()).isEqualTo(fin.reservations());
      assertThat(back.nodes()).isEqualTo(fin.nodes());
      assertThat(g.invariantBreach()).isNull();
    }
  }

  /** Exactly once: acknowledged and not released -> present once; released -> absent; no owner twice. */
  static void checkHistory(List<Done> history, LedgerSnapshot fin) {
    Map<String, Integer> ownerCount = new HashMap<>();
    Map<Long, Reservation> live = new HashMap<>();
    for (Reservation r : fin.reservations()) {
      ownerCount.merge(r.owner(), 1, Integer::sum);
      live.put(r.id(), r);
    }
    assertThat(ownerCount.values()).as("an operation applied twice").allMatch(c -> c == 1);
    Map<Long, String> reservedBy = new HashMap<>();
    List<Long> released = new ArrayList<>();
    List<Long> releaseUnknown = new ArrayList<>();
    int acked = 0;
    for (Done d : history) {
      if (d.kind().equals("reserve") && d.outcome().equals("ok")) {
        assertThat(reservedBy.put(d.id(), d.owner())).as("id %d acknowledged twice", d.id()).isNull();
        acked++;
      } else if (d.kind().equals("release")) {
        (d.outcome().equals("ok") ? released : releaseUnknown).add(d.id());
      }
    }
    assertThat(acked).isGreaterThan(WORKERS * OPS_PER_WORKER / 4);
    for (Map.Entry<Long, String> e : reservedBy.entrySet()) {
      long id = e.getKey();
      if (released.contains(id)) {
        assertThat(live).as("released reservation %d still live", id).doesNotContainKey(id);
      } else if (!releaseUnknown.contains(id)) {
        assertThat(live).as("acknowledged reservation %d lost", id).containsKey(id);
        assertThat(live.get(id).owner()).isEqualTo(e.getValue());
      }
    }
    // Nothing live that no client asked for.
    for (Reservation r : fin.reservations()) {
      assertThat(r.owner()).matches("w\\d-\\d+");
    }
  }

  /**
   * No read goes back in time: a read that began after another read ended sees at least its sequence, and a
   * read that began after a write was acknowledged sees a sequence at least as far as... the write's own
   * position is not known to the client, so the check is between reads (a real-time order of reads).
   */
  static void checkReads(List<Read> reads, List<Done> history) {
    assertThat(reads).isNotEmpty();
    for (Read a : reads) {
      for (Read b : reads) {
        if (b.invokedNanos() > a.completedNanos()) {
          assertThat(b.sequence()).as("a later read saw an older ledger").isGreaterThanOrEqualTo(a.sequence());
        }
      }
    }
    assertThat(history).isNotEmpty();
  }

  static RaftPeerId leaderOrNull(TestGroup g) {
    for (RaftServer.Division d : (Iterable<RaftServer.Division>) g.cluster.getServerAliveStream()::iterator) {
      if (d.getInfo().isLeader() && d.getInfo().isLeaderReady()) {
        return d.getId();
      }
    }
    return null;
  }

  static RaftPeerId awaitLeader(TestGroup g) {
    return await().atMost(Duration.ofSeconds(20)).until(() -> leaderOrNull(g), id -> id != null);
  }
}
