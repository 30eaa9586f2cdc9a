package dev.penumbra.eval.cluster;

import dev.penumbra.cluster.ClusterLedger;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.LedgerSnapshot;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.eval.report.Quantiles;
import dev.penumbra.eval.report.MachineLoad;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * {@code penumbra bench cluster}: the replicated ledger through three replica processes on 127.0.0.1, side by
 * side with two baselines at each load level: the in-memory ledger of one process (no replication: the
 * ceiling) and the replicated ledger without batching (one log entry per operation). Each client thread
 * loops reserve + release; throughput counts committed operations, latency is each call's commit latency.
 * Then failover: under load, the leader's process is killed with {@code kill -9} {@code kills} times (and
 * restarted); each time the time until a write commits again is measured, and the history of acknowledged
 * operations is checked against the final state (lost, duplicated). Bounded in time and count throughout.
 *
 * <p>About 550 lines: the levels, the kills with their history check, and the cutting of each failover into its
 * parts from the replicas' role changes share the replica processes and one result, so they stay in one harness.
 */
public final class ClusterBench {

  /**
   * @param clients the load levels: client threads per level, light to overload
   * @param perLevel how long each system runs at each level
   * @param kills leader kills in the failover phase
   * @param maxBatch operations per log entry for the batched client
   * @param workDir where replicas keep their logs and snapshots (a fresh directory is made inside)
   * @param fsync whether replicas fsync their log before acknowledging
   * @param warmup batched load before measuring, so that the replicas' JIT has compiled the hot paths
   * @param maxInFlight log entries the batched client has sent and not yet had answered
   * @param electionTimeout the replicas' shortest election timeout (they wait up to twice as long)
   * @param raft Ratis properties set otherwise on every replica ({@code raft.*} keys): a design to measure
   */
  public record Options(List<Integer> clients, Duration perLevel, int kills, int maxBatch, Path workDir,
      boolean fsync, Duration warmup, int maxInFlight, Duration electionTimeout, boolean directSend,
      Map<String, String> raft) {

    /** Options with the client's direct send off (the client's default) and Ratis as the product sets it. */
    public Options(List<Integer> clients, Duration perLevel, int kills, int maxBatch, Path workDir, boolean fsync,
        Duration warmup, int maxInFlight, Duration electionTimeout) {
      this(clients, perLevel, kills, maxBatch, workDir, fsync, warmup, maxInFlight, electionTimeout, false,
          Map.of());
    }

    public Options {
      clients = List.copyOf(clients);
      raft = Map.copyOf(raft);
      raft.keySet().stream().filter(k -> !k.startsWith("raft.") && !k.equals(STAGGER)).findFirst().ifPresent(k -> {
        throw new IllegalArgumentException("raft keys must start with 'raft.', was '" + k + "'");
      });
      if (clients.isEmpty() || clients.stream().anyMatch(c -> c < 1 || c > 2048)) {
        throw new IllegalArgumentException("clients must be a non-empty list of 1..2048, was " + clients);
      }
      if (perLevel.isNegative() || perLevel.isZero() || perLevel.toSeconds() > 600) {
        throw new IllegalArgumentException("perLevel must be in (0, 10 min], was " + perLevel);
      }
      if (kills < 0 || kills > 100) {
        throw new IllegalArgumentException("kills must be 0..100, was " + kills);
      }
      if (maxBatch < 1 || maxBatch > 10_000) {
        throw new IllegalArgumentException("maxBatch must be 1..10000, was " + maxBatch);
      }
      if (warmup == null || warmup.isNegative() || warmup.toSeconds() > 600) {
        throw new IllegalArgumentException("warmup must be in [0, 10 min], was " + warmup);
      }
      if (workDir == null) {
        throw new IllegalArgumentException("workDir must not be null");
      }
      if (maxInFlight < 1 || maxInFlight > 1024) {
        throw new IllegalArgumentException("maxInFlight must be 1..1024, was " + maxInFlight);
      }
      if (electionTimeout == null || electionTimeout.toMillis() < 50 || electionTimeout.toMillis() > 60_000) {
        throw new IllegalArgumentException("electionTimeout must be 50 ms .. 60 s, was " + electionTimeout);
      }
    }
  }

  /**
   * One system at one load level. The CPU figures count this process and the replica processes; they do not
   * depend on what else the machine runs, so {@code idleMachineOpsPerSec} (all cores divided by the CPU one
   * operation costs) says what the same code would do on this machine when idle.
   *
   * @param opsPerBatch operations per log entry (1 for the in-memory ledger)
   * @param cpuMicrosPerOp CPU time (all processes) per committed operation
   * @param idleMachineOpsPerSec cores / cpuMicrosPerOp: the CPU-bound throughput on this machine when idle
   */
  public record Level(String system, int clients, long operations, double seconds, double opsPerSec,
      double pairsPerSec, double p50Ms, double p99Ms, double maxMs, long errors, double opsPerBatch,
      double cpuMicrosPerOp, double idleMachineOpsPerSec) {}

  /**
   * One leader kill: who died, who took over, how long until a write committed again, and the parts of that time
   * from the replicas' role changes (NaN when a part was not seen).
   *
   * @param detectMs from the kill until a surviving follower stood (its election timeout ran out: the failure
   *     detector)
   * @param electionMs from that until the replica that won became leader (pre-votes and votes, stands that failed
   *     included)
   * @param readyMs from that until the new leader was ready to serve (its first entry of the term committed)
   * @param clientMs from that until the client's write was committed (the client finding the new leader, its retry
   *     waits, the commit itself)
   * @param stands how many times a surviving follower stood before the new leader was elected (1: the first won)
   */
  public record Failover(int round, String killed, String newLeader, double millisToCommit, double detectMs,
      double electionMs, double readyMs, double clientMs, int stands) {}

  /**
   * @param ratioToInMemory batched cluster ops/s over in-memory ops/s, per level (same order as clients)
   * @param ratioToUnbatched batched over unbatched, per level
   * @param acknowledged acknowledged reservations and releases in the failover phase
   * @param lost acknowledged operations missing from the final state
   * @param duplicated operations applied more than once in the final state
   * @param diskFsyncP50Ms an fsync of a small append on the replicas' disk, median (measured before the levels): the
   *     floor under a commit with fsync on, whose tail follows this one's
   * @param diskFsyncP99Ms the same, 99th percentile
   * @param standsWithoutKill how often a follower stood for election during the warm-up and the load levels, when
   *     no replica was killed: each is a spurious election (the failure detector took a slow leader for a dead one)
   * @param leaderChangesWithoutKill new leaders elected in that window
   * @param failoverParts median and 99th percentile of each part of the failovers: detect, election, ready,
   *     client (ms), in that order, p50 then p99
   * @param rejoinMs per kill, from the restarted old leader listening until it had applied what the new leader had
   *     committed then (NaN: not within a minute)
   */
  public record Result(List<Level> levels, List<Double> ratioToInMemory, List<Double> ratioToUnbatched,
      List<Failover> failovers, double failoverP50Ms, double failoverP99Ms, double failoverMaxMs,
      long acknowledged, long unknown, long lost, long duplicated, boolean fsync, String loadBefore,
      String loadAfter, double diskFsyncP50Ms, double diskFsyncP99Ms, int standsWithoutKill,
      int leaderChangesWithoutKill, List<Double> failoverParts, List<Double> rejoinMs) {}

  static final String IN_MEMORY = "in-memory (1 process)";
  static final String UNBATCHED = "cluster, unbatched";
  static final String BATCHED = "cluster, batched";
  private static final int NODES = 16;
  private static final Duration LEASE = Duration.ofHours(1);

  /** The replicas' election timeouts staggered by rank (a design, see {@code ClusterReplica}): not a Ratis key. */
  public static final String STAGGER = "penumbra.stagger-election";

  private ClusterBench() {}

  public static Result run(Options o, Consumer<String> progress) throws Exception {
    String loadBefore = MachineLoad.text();
    Path root = Files.createTempDirectory(Files.createDirectories(o.workDir()), "cluster-");
    List<Level> levels = new ArrayList<>();
    List<Failover> failovers = new ArrayList<>();
    List<Double> rejoin = new ArrayList<>();
    long[] history;
    int stands;
    int leaderChanges;
    double[] fsyncMs = fsyncProbe(root, 300);
    progress.accept(String.format(java.util.Locale.ROOT, "disk: fsync of a 200-byte append p50 %.2f ms, p99 %.2f ms "
        + "(300 in %s)", Quantiles.sorted(fsyncMs, 0.5), Quantiles.sorted(fsyncMs, 0.99), root));
    List<String> extra = new ArrayList<>();
    o.raft().forEach((k, v) -> extra.addAll(List.of("--raft", k + "=" + v)));
    try (ReplicaProcesses replicas = new ReplicaProcesses(root, 3, o.fsync(), o.electionTimeout(), extra)) {
      progress.accept("started 3 replica processes on 127.0.0.1 in " + root + (o.fsync() ? ", fsync on" : ", fsync off")
          + ", election timeout " + o.electionTimeout().toMillis() + " ms" + (o.raft().isEmpty() ? "" : ", " + o.raft()));
      awaitLeader(replicas, Duration.ofSeconds(60));
      long quietFrom = System.nanoTime();
      ClusterLedger.Options batched = ClusterLedger.Options.DEFAULTS.withMaxBatch(o.maxBatch())
          .withMaxInFlight(o.maxInFlight()).withDirectSend(o.directSend());
      ClusterLedger.Options unbatched = ClusterLedger.Options.DEFAULTS.withMaxBatch(1).withMaxInFlight(64)
          .withDirectSend(o.directSend());
      try (ClusterLedger admin = ClusterLedger.connect(replicas.peers(), Clock.systemUTC(), batched)) {
        for (int i = 0; i < NODES; i++) {
          admin.addNode("n" + i, Resources.cpu(Long.MAX_VALUE / 4));
        }
      }
      if (!o.warmup().isZero()) {
        int most = o.clients().stream().mapToInt(Integer::intValue).max().orElse(1);
        try (ClusterLedger l = ClusterLedger.connect(replicas.peers(), Clock.systemUTC(), batched)) {
          measure("warm-up", most, o.warmup(), l, replicas, progress);
        }
      }
      for (int clients : o.clients()) {
        Ledger mem = Ledger.inMemory(Clock.systemUTC());
        for (int i = 0; i < NODES; i++) {
          mem.addNode("n" + i, Resources.cpu(Long.MAX_VALUE / 4));
        }
        levels.add(measure(IN_MEMORY, clients, o.perLevel(), mem, null, progress));
        try (ClusterLedger l = ClusterLedger.connect(replicas.peers(), Clock.systemUTC(), unbatched)) {
          levels.add(measure(UNBATCHED, clients, o.perLevel(), l, replicas, progress));
        }
        try (ClusterLedger l = ClusterLedger.connect(replicas.peers(), Clock.systemUTC(), batched)) {
          levels.add(measure(BATCHED, clients, o.perLevel(), l, replicas, progress));
        }
      }
      long quietTo = System.nanoTime();
      List<ReplicaProcesses.RoleEvent> quiet = replicas.roleEventsSince(quietFrom).stream()
          .filter(e -> e.nanos() <= quietTo).toList();
      stands = (int) quiet.stream().filter(e -> e.role().equals("CANDIDATE")).count();
      // The leader in office when the window opened may report its readiness inside it: its term does not count.
      long termBefore = replicas.roleEventsSince(0).stream().filter(e -> e.nanos() < quietFrom)
          .mapToLong(ReplicaProcesses.RoleEvent::term).max().orElse(-1);
      leaderChanges = (int) quiet.stream().filter(e -> e.role().equals("LEADER") && e.term() > termBefore)
          .map(ReplicaProcesses.RoleEvent::term).distinct().count();
      progress.accept("without a kill (warm-up and levels, " + Math.round((quietTo - quietFrom) / 1e9) + " s): "
          + stands + " follower(s) stood for election, " + leaderChanges + " new leader(s)");
      history = failover(replicas, o, batched, failovers, rejoin, progress);
    }
    List<Double> toMem = new ArrayList<>();
    List<Double> toUnbatched = new ArrayList<>();
    for (int clients : o.clients()) {
      double b = find(levels, BATCHED, clients).opsPerSec();
      toMem.add(b / find(levels, IN_MEMORY, clients).opsPerSec());
      toUnbatched.add(b / find(levels, UNBATCHED, clients).opsPerSec());
    }
    double[] ms = failovers.stream().mapToDouble(Failover::millisToCommit).sorted().toArray();
    return new Result(levels, toMem, toUnbatched, failovers, Quantiles.of(ms, 0.5), Quantiles.of(ms, 0.99),
        ms.length == 0 ? Double.NaN : ms[ms.length - 1], history[0], history[1], history[2], history[3],
        o.fsync(), loadBefore, MachineLoad.text(), Quantiles.sorted(fsyncMs, 0.5), Quantiles.sorted(fsyncMs, 0.99),
        stands, leaderChanges, parts(failovers), List.copyOf(rejoin));
  }

  /**
   * {@code n} appends of 200 bytes to a file in {@code dir}, each forced to disk as the Raft log forces its
   * segments ({@code FileChannel.force(false)}); the latencies in ms, sorted.
   */
  static double[] fsyncProbe(Path dir, int n) throws IOException {
    Path file = dir.resolve("fsync-probe");
    double[] ms = new double[n];
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(200);
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE,
        java.nio.file.StandardOpenOption.APPEND)) {
      for (int i = 0; i < n; i++) {
        buf.clear();
        ch.write(buf);
        long t0 = System.nanoTime();
        ch.force(false);
        ms[i] = (System.nanoTime() - t0) / 1e6;
      }
    } finally {
      Files.deleteIfExists(file);
    }
    java.util.Arrays.sort(ms);
    return ms;
  }

  // ---------------------------------------------------------------- throughput and latency

  private static Level measure(String system, int clients, Duration d, Ledger l, ReplicaProcesses replicas,
      Consumer<String> progress) throws InterruptedException {
    Recorder recorder = new Recorder(3);
    AtomicLong ops = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    long batches0 = l instanceof ClusterLedger c ? c.batches() : 0;
    long sent0 = l instanceof ClusterLedger c ? c.operations() : 0;
    long cpu0 = cpuNanos(replicas);
    long start = System.nanoTime();
    long end = start + d.toNanos();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      threads.add(Thread.ofPlatform().daemon().start(() -> {
        String node = "n" + (client % NODES);
        long i = 0;
        while (System.nanoTime() < end) {
          try {
            long t0 = System.nanoTime();
            Reservation r = l.reserve("c" + client + "-" + i++, node, Resources.cpu(1), Priority.STANDARD, LEASE);
            long t1 = System.nanoTime();
            l.release(r.id());
            long t2 = System.nanoTime();
            recorder.recordValue(Math.max(1, (t1 - t0) / 1000));
            recorder.recordValue(Math.max(1, (t2 - t1) / 1000));
            ops.addAndGet(2);
          } catch (RuntimeException e) {
            errors.incrementAndGet();
          }
        }
      }));
    }
    for (Thread t : threads) {
      t.join(d.toMillis() + 60_000);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    double cpuMicros = (cpuNanos(replicas) - cpu0) / 1e3 / Math.max(1, ops.get());
    double perBatch = l instanceof ClusterLedger c
        ? (c.operations() - sent0) / (double) Math.max(1, c.batches() - batches0) : 1;
    Histogram h = recorder.getIntervalHistogram();
    int cores = Runtime.getRuntime().availableProcessors();
    Level level = new Level(system, clients, ops.get(), seconds, ops.get() / seconds, ops.get() / 2.0 / seconds,
        h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0,
        errors.get(), perBatch, cpuMicros, cores * 1e6 / Math.max(1e-3, cpuMicros));
    progress.accept(String.format(java.util.Locale.ROOT,
        "%-22s %4d clients: %9.0f ops/s, p50 %7.2f ms, p99 %7.2f ms, errors %d, %.1f ops/entry, "
            + "%.0f us CPU/op (idle-machine bound %.0f ops/s)", system, clients,
        level.opsPerSec(), level.p50Ms(), level.p99Ms(), level.errors(), perBatch, cpuMicros,
        level.idleMachineOpsPerSec()));
    return level;
  }

  // ---------------------------------------------------------------- failover

  /** One operation of the failover history. */
  private record Done(boolean reserve, String owner, long id, boolean acked) {}

  /** Returns {acknowledged, unknown, lost, duplicated}. */
  private static long[] failover(ReplicaProcesses replicas, Options o, ClusterLedger.Options opts,
      List<Failover> failovers, List<Double> rejoin, Consumer<String> progress) throws Exception {
    if (o.kills() == 0) {
      return new long[4];
    }
    ConcurrentLinkedQueue<Done> history = new ConcurrentLinkedQueue<>();
    long hardStop = System.nanoTime() + Duration.ofSeconds(60L * o.kills() + 120).toNanos();
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicBoolean paused = new java.util.concurrent.atomic.AtomicBoolean();
    List<Thread> load = new ArrayList<>();
    try (ClusterLedger client = ClusterLedger.connect(replicas.peers(), Clock.systemUTC(),
        opts.withTimeout(Duration.ofSeconds(20)))) {
      for (int w = 0; w < 8; w++) {
        int worker = w;
        load.add(Thread.ofPlatform().daemon().start(() -> {
          Random rnd = new Random(worker);
          long i = 0;
          while (!stop.get() && System.nanoTime() < hardStop) {
            if (paused.get()) {
              java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
              continue;
            }
            String owner = "f" + worker + "-" + i++;
            Reservation r;
            try {
              r = client.reserve(owner, "n" + rnd.nextInt(NODES), Resources.cpu(1), Priority.STANDARD, LEASE);
              history.add(new Done(true, owner, r.id(), true));
            } catch (RuntimeException e) {
              history.add(new Done(true, owner, -1, false));
              continue;
            }
            if (rnd.nextInt(4) > 0) {
              try {
                client.release(r.id());
                history.add(new Done(false, owner, r.id(), true));
              } catch (RuntimeException e) {
                history.add(new Done(false, owner, r.id(), false));
              }
            }
          }
        }));
      }
      for (int k = 1; k <= o.kills(); k++) {
        // Every replica catches up with the load paused (their status lines trail the log by up to a report
        // period, which a full write load outruns), then the load runs again for a moment before the kill.
        paused.set(true);
        awaitAllCaughtUp(replicas, Duration.ofSeconds(60));
        paused.set(false);
        // The load runs for a moment before the kill, by design.
        Thread.sleep(300);
        String leader = replicas.leader();
        try (ClusterLedger probe = ClusterLedger.connect(replicas.peers(), Clock.systemUTC(),
            ClusterLedger.Options.DEFAULTS.withTimeout(Duration.ofSeconds(30)))) {
          probe.expireDue(); // connected, leader known
          long t0 = System.nanoTime();
          replicas.kill9(leader);
          double ms;
          try {
            probe.expireDue(); // a write through the log: returns once a new leader commits it
            ms = (System.nanoTime() - t0) / 1e6;
          } catch (RuntimeException e) {
            ms = (System.nanoTime() - t0) / 1e6; // no commit within the probe's timeout: counted as is
            progress.accept("no write committed within " + Math.round(ms) + " ms of the kill: " + e.getMessage());
          }
          long t1 = t0 + (long) (ms * 1e6);
          String next = awaitLeader(replicas, Duration.ofSeconds(30));
          Failover f = parts(k, leader, next, ms, t0, t1, replicas.roleEventsSince(t0));
          failovers.add(f);
          progress.accept(String.format(java.util.Locale.ROOT,
              "kill -9 %d/%d of leader %s: a write committed again after %.0f ms (new leader %s): detect %.0f, "
                  + "election %.0f (%d stand(s)), leader ready %.0f, client %.0f ms",
              k, o.kills(), leader, ms, next, f.detectMs(), f.electionMs(), f.stands(), f.readyMs(), f.clientMs()));
          progress.accept("    timeline (ms after the kill): " + timeline(leader, t0, t1, replicas.roleEventsSince(t0)));
        }
        replicas.start(leader);
        // The old leader comes back as a follower whose log may end in entries the new leader never had: how long
        // until it has applied what the leader had committed when it listened (NaN: not within a minute).
        double back = ReachBench.awaitCaughtUp(replicas, leader, Duration.ofSeconds(60))[1];
        rejoin.add(back);
        progress.accept(String.format(java.util.Locale.ROOT, "    %s restarted: caught up %s", leader,
            Double.isNaN(back) ? "NOT within 60 s" : String.format(java.util.Locale.ROOT, "after %.0f ms", back)));
      }
      // The load stops first: a restarted replica then catches up to a log that no longer grows (under a full
      // write load it could trail the leader by more than the tolerance for a whole minute), and the final state
      // is read from replicas that agree.
      stop.set(true);
      for (Thread t : load) {
        t.join(Duration.ofSeconds(60));
      }
      awaitAllCaughtUp(replicas, Duration.ofSeconds(60));
      LedgerSnapshot fin = client.snapshot();
      return check(new ArrayList<>(history), fin);
    }
  }

  /**
   * Cuts one failover into its parts from the survivors' role changes between the kill ({@code t0}) and a little
   * after the commit ({@code t1}; the replicas see a candidate within 5 ms, a leader at once).
   */
  static Failover parts(int round, String killed, String next, double ms, long t0, long t1,
      List<ReplicaProcesses.RoleEvent> events) {
    long slack = 5_000_000;
    List<ReplicaProcesses.RoleEvent> ev = events.stream()
        .filter(e -> !e.id().equals(killed) && e.nanos() >= t0 && e.nanos() <= t1 + slack).toList();
    ReplicaProcesses.RoleEvent won = ev.stream().filter(e -> e.id().equals(next) && e.role().equals("LEADER"))
        .min(java.util.Comparator.comparingLong((ReplicaProcesses.RoleEvent e) -> -e.term())
            .thenComparingLong(ReplicaProcesses.RoleEvent::nanos)).orElse(null);
    long firstStand = ev.stream().filter(e -> e.role().equals("CANDIDATE")).mapToLong(ReplicaProcesses.RoleEvent::nanos)
        .min().orElse(-1);
    if (won == null || firstStand < 0) {
      return new Failover(round, killed, next, ms, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0);
    }
    long ready = ev.stream().filter(e -> e.id().equals(next) && e.term() == won.term() && e.ready())
        .mapToLong(ReplicaProcesses.RoleEvent::nanos).min().orElse(won.nanos());
    int stands = (int) ev.stream().filter(e -> e.role().equals("CANDIDATE") && e.nanos() <= won.nanos()).count();
    return new Failover(round, killed, next, ms, (firstStand - t0) / 1e6, (won.nanos() - firstStand) / 1e6,
        (ready - won.nanos()) / 1e6, Math.max(0, t1 - ready) / 1e6, stands);
  }

  /** The survivors' role changes from the kill to the commit, as {@code id:ROLE@ms}. */
  static String timeline(String killed, long t0, long t1, List<ReplicaProcesses.RoleEvent> events) {
    StringBuilder b = new StringBuilder();
    for (ReplicaProcesses.RoleEvent e : events) {
      if (!e.id().equals(killed) && e.nanos() <= t1 + 5_000_000) {
        b.append(String.format(java.util.Locale.ROOT, "%s:%s%s/t%d@%.0f ", e.id(), e.role(), e.ready() ? "+ready" : "",
            e.term(), (e.nanos() - t0) / 1e6));
      }
    }
    return b.append(String.format(java.util.Locale.ROOT, "commit@%.0f", (t1 - t0) / 1e6)).toString();
  }

  /** p50 and p99 of detect, election, ready and client over the failovers (NaN parts left out). */
  static List<Double> parts(List<Failover> fs) {
    List<java.util.function.ToDoubleFunction<Failover>> getters = List.of(Failover::detectMs,
        Failover::electionMs, Failover::readyMs, Failover::clientMs);
    List<Double> out = new ArrayList<>();
    for (var g : getters) {
      double[] v = fs.stream().mapToDouble(g).filter(d -> !Double.isNaN(d)).sorted().toArray();
      out.add(Quantiles.of(v, 0.5));
      out.add(Quantiles.of(v, 0.99));
    }
    return out;
  }

  /** {acknowledged, unknown, lost, duplicated} from the history and the final state. */
  static long[] check(List<Done> history, LedgerSnapshot fin) {
    Map<String, Integer> byOwner = new HashMap<>();
    Set<Long> live = new HashSet<>();
    for (Reservation r : fin.reservations()) {
      if (r.owner().startsWith("f")) {
        byOwner.merge(r.owner(), 1, Integer::sum);
        live.add(r.id());
      }
    }
    long duplicated = byOwner.values().stream().filter(c -> c > 1).mapToLong(c -> c - 1).sum();
    Set<Long> releasedAcked = new HashSet<>();
    Set<Long> releaseUnknown = new HashSet<>();
    long acknowledged = 0;
    long unknown = 0;
    for (Done d : history) {
      if (!d.reserve()) {
        (d.acked() ? releasedAcked : releaseUnknown).add(d.id());
      }
      if (d.acked()) {
        acknowledged++;
      } else {
        unknown++;
      }
    }
    long lost = 0;
    for (Done d : history) {
      if (d.reserve() && d.acked()) {
        boolean shouldBeLive = !releasedAcked.contains(d.id()) && !releaseUnknown.contains(d.id());
        if (shouldBeLive && !live.contains(d.id())) {
          lost++; // an acknowledged reservation vanished
        }
        if (releasedAcked.contains(d.id()) && live.contains(d.id())) {
          lost++; // an acknowledged release did not happen
        }
      }
    }
    return new long[] {acknowledged, unknown, lost, duplicated};
  }

  /** CPU time of this process and the replica processes (null: this process only). */
  private static long cpuNanos(ReplicaProcesses replicas) {
    long self = ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    return self + (replicas == null ? 0 : replicas.cpuNanos());
  }

  static String awaitLeader(ReplicaProcesses replicas, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      String l = replicas.leader();
      if (l != null) {
        return l;
      }
      // The replicas are other processes: their status lines are read again until one names a leader, bounded.
      Thread.sleep(20);
    }
    throw new IllegalStateException("no leader among the replica processes within " + timeout);
  }

  /** Every replica up, on the leader's term, and applied at least up to what the leader had committed. */
  static void awaitAllCaughtUp(ReplicaProcesses replicas, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      String leader = replicas.leader();
      ReplicaProcesses.Status ls = leader == null ? null : replicas.status(leader);
      if (ls != null) {
        boolean all = true;
        for (var p : replicas.peers()) {
          ReplicaProcesses.Status s = replicas.status(p.id());
          all &= s != null && s.term() == ls.term() && s.leader() != null && s.applied() >= ls.commit() - 50;
        }
        if (all) {
          return;
        }
      }
      // The replicas' status lines arrive on their own period; read again until all caught up, bounded.
      Thread.sleep(50);
    }
    java.util.List<String> seen = new java.util.ArrayList<>();
    for (var p : replicas.peers()) {
      seen.add(p.id() + ": " + replicas.status(p.id()));
    }
    throw new IllegalStateException("the replicas did not all catch up within " + timeout + " (leader "
        + replicas.leader() + "; " + String.join(", ", seen) + ")");
  }

  // ---------------------------------------------------------------- helpers

  static Level find(List<Level> levels, String system, int clients) {
    return levels.stream().filter(l -> l.system().equals(system) && l.clients() == clients).findFirst()
        .orElseThrow();
  }


  static String[] systems() {
    return new String[] {IN_MEMORY, UNBATCHED, BATCHED};
  }

  static List<String> systemList() {
    return Arrays.asList(systems());
  }
}
