package dev.penumbra.eval.cluster;

import dev.penumbra.cluster.ClusterLedger;
import dev.penumbra.core.Priority;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.Resources;
import dev.penumbra.eval.report.MachineLoad;
import dev.penumbra.eval.report.Quantiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * How long a leader takes to reach a replica that was away: replica processes on 127.0.0.1 under a light write
 * load, and in each trial one replica is away for {@code down} and comes back. Four cases, each {@code trials}
 * times: a replica started after the other two elected a leader (a fresh group per trial); a follower whose data
 * is lost (killed, its directory wiped, restarted empty); a follower killed with {@code kill -9} and restarted on
 * its data; the leader killed with {@code kill -9} under load and restarted as a follower (its log may end in
 * entries the new leader never had). Measured from the moment the returning replica listens until it has applied
 * what the leader had committed at that moment: until then it cannot vote for a leader whose log it lacks, and the
 * group is one failure from unavailable. Beside it, the leader's CPU while the replica was away (what retrying a
 * dead follower costs).
 */
public final class ReachBench {

  /** The three ways a replica leaves and returns. */
  public enum Case {
    /** The third replica started {@code down} after the other two elected a leader (a fresh group each trial). */
    LATE,
    /** A follower killed, its data wiped, restarted with an empty log (a lost disk). */
    WIPED,
    /** A follower killed with {@code kill -9} and restarted on its data. */
    FOLLOWER_RESTART,
    /** The leader killed with {@code kill -9} under load and restarted as a follower. */
    LEADER_RESTART
  }

  /**
   * @param trials trials of each case
   * @param down how long the replica stays away in each trial (the leader's appender counts errors meanwhile)
   * @param workDir where the replicas keep their logs (a fresh directory is made inside)
   * @param electionTimeout the replicas' shortest election timeout
   * @param raft Ratis properties set otherwise on every replica ({@code raft.*} keys): a design to measure
   * @param trialTimeout how long one trial waits for the returning replica before it counts as not reached
   * @param cases the cases to run (empty: all)
   */
  public record Options(int trials, Duration down, Path workDir, boolean fsync, Duration electionTimeout,
      Map<String, String> raft, Duration trialTimeout, java.util.Set<Case> cases) {

    public Options {
      cases = cases == null || cases.isEmpty() ? java.util.EnumSet.allOf(Case.class) : java.util.Set.copyOf(cases);
      raft = Map.copyOf(raft);
      raft.keySet().stream().filter(k -> !k.startsWith("raft.")).findFirst().ifPresent(k -> {
        throw new IllegalArgumentException("raft keys must start with 'raft.', was '" + k + "'");
      });
      if (trials < 1 || trials > 100) {
        throw new IllegalArgumentException("trials must be 1..100, was " + trials);
      }
      if (down == null || down.isNegative() || down.toSeconds() > 300) {
        throw new IllegalArgumentException("down must be in [0, 5 min], was " + down);
      }
      if (workDir == null) {
        throw new IllegalArgumentException("workDir must not be null");
      }
      if (electionTimeout == null || electionTimeout.toMillis() < 50 || electionTimeout.toMillis() > 60_000) {
        throw new IllegalArgumentException("electionTimeout must be 50 ms .. 60 s, was " + electionTimeout);
      }
      if (trialTimeout == null || trialTimeout.toSeconds() < 1 || trialTimeout.toSeconds() > 600) {
        throw new IllegalArgumentException("trialTimeout must be 1 s .. 10 min, was " + trialTimeout);
      }
    }
  }

  /**
   * One trial: the replica that left, how long it was away, how long after it listened again the leader's first
   * append reached it (its commit index moved: NaN when never), and how long until it had applied the leader's
   * commit index of that moment ({@code reached} false: not within the trial's timeout, and {@code
   * reachMs} is that timeout).
   */
  public record Trial(Case kind, int round, String replica, double downMs, double firstAppendMs, double reachMs,
      boolean reached, double leaderCpuMsPerSecAway, String load) {}

  /**
   * Per case: trials, p50 / p99 of the time to the leader's first append, p50 / p99 / max of the time to catch
   * up, how many were not caught up in time, and the leader's median CPU (ms per second) while the replica was away.
   */
  public record Summary(Case kind, int trials, double firstAppendP50Ms, double firstAppendP99Ms, double p50Ms,
      double p99Ms, double maxMs, int notReached, double leaderCpuMsPerSecAway) {}

  public record Result(List<Trial> trials, List<Summary> summaries, Map<String, String> raft, String loadBefore,
      String loadAfter) {}

  private static final int NODES = 4;

  private ReachBench() {}

  public static Result run(Options o, Consumer<String> progress) throws Exception {
    String loadBefore = MachineLoad.text();
    Path root = Files.createTempDirectory(Files.createDirectories(o.workDir()), "reach-");
    List<String> extra = new ArrayList<>();
    o.raft().forEach((k, v) -> extra.addAll(List.of("--raft", k + "=" + v)));
    progress.accept("replica processes on 127.0.0.1 in " + root + ", election timeout "
        + o.electionTimeout().toMillis() + " ms" + (o.raft().isEmpty() ? "" : ", " + o.raft()));
    List<Trial> trials = new ArrayList<>();
    for (int round = 1; o.cases().contains(Case.LATE) && round <= o.trials(); round++) {
      int k = round;
      // A replica that starts after the election needs a group that has never seen it: a fresh one per trial.
      Path dir = Files.createDirectories(root.resolve("late-" + k));
      try (ReplicaProcesses replicas = new ReplicaProcesses(dir, 3, o.fsync(), o.electionTimeout(), extra, 3)) {
        replicas.start("r0");
        replicas.start("r1");
        ClusterBench.awaitLeader(replicas, Duration.ofSeconds(60));
        trials.addAll(underLoad(replicas, () -> List.of(trial(replicas, Case.LATE, k, o))));
        report(trials.get(trials.size() - 1), o, progress);
      }
    }
    Path groupDir = Files.createDirectories(root.resolve("group"));
    try (ReplicaProcesses replicas = new ReplicaProcesses(groupDir, 3, o.fsync(), o.electionTimeout(), extra)) {
      ClusterBench.awaitLeader(replicas, Duration.ofSeconds(60));
      trials.addAll(underLoad(replicas, () -> {
        List<Trial> out = new ArrayList<>();
        // The wiped follower last: a follower left unreached leaves the group one failure from unavailable.
        for (Case c : List.of(Case.FOLLOWER_RESTART, Case.LEADER_RESTART, Case.WIPED)) {
          for (int k = 1; o.cases().contains(c) && k <= o.trials(); k++) {
            try {
              ClusterBench.awaitAllCaughtUp(replicas, o.trialTimeout());
            } catch (IllegalStateException e) {
              progress.accept("before the trial: " + e.getMessage());
            }
            out.add(trial(replicas, c, k, o));
            report(out.get(out.size() - 1), o, progress);
          }
        }
        return out;
      }));
    }
    List<Summary> summaries = new ArrayList<>();
    for (Case c : Case.values()) {
      if (!o.cases().contains(c)) {
        continue;
      }
      List<Trial> of = trials.stream().filter(t -> t.kind() == c).toList();
      double[] ms = of.stream().mapToDouble(Trial::reachMs).sorted().toArray();
      double[] cpu = of.stream().mapToDouble(Trial::leaderCpuMsPerSecAway).sorted().toArray();
      // a trial the leader never reached counts as the whole trial's timeout
      double[] first = of.stream().mapToDouble(t -> Double.isNaN(t.firstAppendMs()) ? o.trialTimeout().toMillis()
          : t.firstAppendMs()).sorted().toArray();
      int missed = (int) of.stream().filter(t -> !t.reached()).count();
      summaries.add(new Summary(c, ms.length, Quantiles.sorted(first, 0.5), Quantiles.sorted(first, 0.99),
          Quantiles.sorted(ms, 0.5), Quantiles.sorted(ms, 0.99),
          ms.length == 0 ? Double.NaN : ms[ms.length - 1], missed, Quantiles.sorted(cpu, 0.5)));
    }
    return new Result(trials, summaries, o.raft(), loadBefore, MachineLoad.text());
  }

  private interface Trials {
    List<Trial> run() throws Exception;
  }

  private static void report(Trial t, Options o, Consumer<String> progress) {
    progress.accept(String.format(Locale.ROOT, "%s %d/%d: %s away %.0f ms; first append after %.0f ms, %s after %.0f "
        + "ms; leader CPU while away %.0f ms/s (load %s)", t.kind(), t.round(), o.trials(), t.replica(), t.downMs(),
        t.firstAppendMs(), t.reached() ? "caught up" : "NOT caught up", t.reachMs(), t.leaderCpuMsPerSecAway(),
        t.load()));
  }

  /** Runs {@code body} with the light write load on the group, stopped afterwards. */
  private static List<Trial> underLoad(ReplicaProcesses replicas, Trials body) throws Exception {
    try (ClusterLedger client = ClusterLedger.connect(replicas.peers(), Clock.systemUTC(),
        ClusterLedger.Options.DEFAULTS.withTimeout(Duration.ofSeconds(30)))) {
      for (int i = 0; i < NODES; i++) {
        client.addNode("n" + i, Resources.cpu(Long.MAX_VALUE / 4));
      }
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> load = startLoad(client, stop);
      try {
        return body.run();
      } finally {
        stop.set(true);
        for (Thread t : load) {
          t.join(Duration.ofSeconds(30));
        }
      }
    }
  }

  /** Text lines of the result, one per case. */
  public static List<String> lines(Result r) {
    List<String> out = new ArrayList<>();
    for (Summary s : r.summaries()) {
      out.add(String.format(Locale.ROOT, "%-16s %d trials: first append after p50 %.0f / p99 %.0f ms; caught up after "
          + "p50 %.0f / p99 %.0f / max %.0f ms; not caught up within the trial timeout: %d", s.kind(), s.trials(),
          s.firstAppendP50Ms(), s.firstAppendP99Ms(), s.p50Ms(), s.p99Ms(), s.maxMs(), s.notReached()));
    }
    out.add("leader CPU while a replica was away (median ms/s): " + String.join(", ", r.summaries().stream()
        .map(s -> String.format(Locale.ROOT, "%s %.0f", s.kind(), s.leaderCpuMsPerSecAway())).toList()));
    out.add("machine load: before " + r.loadBefore() + ", after " + r.loadAfter());
    return out;
  }

  /**
   * A light write load (4 threads, a reserve and a release every ~10 ms each), so that the leader has entries to
   * send to a returning replica and, when the leader is killed, may leave entries only it had.
   */
  private static List<Thread> startLoad(ClusterLedger client, AtomicBoolean stop) {
    long hardStop = System.nanoTime() + Duration.ofMinutes(60).toNanos();
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      int worker = w;
      threads.add(Thread.ofPlatform().daemon().name("reach-load-" + w).start(() -> {
        Random rnd = new Random(worker);
        long i = 0;
        while (!stop.get() && System.nanoTime() < hardStop) {
          try {
            Reservation r = client.reserve("w" + worker + "-" + i++, "n" + rnd.nextInt(NODES), Resources.cpu(1),
                Priority.STANDARD, Duration.ofHours(1));
            client.release(r.id());
            Thread.sleep(10);
          } catch (InterruptedException e) {
            return;
          } catch (RuntimeException e) {
            // a failover under way: the client retries within its own timeout; the next operation goes on
          }
        }
      }));
    }
    return threads;
  }

  private static Trial trial(ReplicaProcesses replicas, Case c, int round, Options o) throws Exception {
    String leader = ClusterBench.awaitLeader(replicas, Duration.ofSeconds(30));
    String away = c == Case.LATE ? "r2" : c == Case.LEADER_RESTART ? leader : replicas.peers().stream()
        .map(p -> p.id()).filter(id -> !id.equals(leader)).sorted(Comparator.naturalOrder()).toList().get(round % 2);
    long t0 = System.nanoTime();
    long cpu0 = replicas.cpuNanos(leader);
    if (c != Case.LATE) {
      replicas.kill9(away);
    }
    if (c == Case.WIPED) {
      Path data = replicas.peers().stream().filter(p -> p.id().equals(away)).findFirst().orElseThrow().dataDir();
      try (var files = Files.walk(data)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    if (c == Case.LEADER_RESTART) {
      ClusterBench.awaitLeader(replicas, Duration.ofSeconds(60));
    }
    long wait = o.down().toNanos() - (System.nanoTime() - t0);
    if (wait > 0) {
      Thread.sleep(Duration.ofNanos(wait));
    }
    double downMs = (System.nanoTime() - t0) / 1e6;
    // The leader's CPU while the replica was away; not when the leader itself was the one away.
    double cpu = c == Case.LEADER_RESTART ? Double.NaN : (replicas.cpuNanos(leader) - cpu0) / 1e6 / (downMs / 1e3);
    replicas.start(away);
    double[] ms = awaitCaughtUp(replicas, away, o.trialTimeout());
    return Double.isNaN(ms[1])
        ? new Trial(c, round, away, downMs, ms[0], o.trialTimeout().toMillis(), false, cpu, MachineLoad.text())
        : new Trial(c, round, away, downMs, ms[0], ms[1], true, cpu, MachineLoad.text());
  }

  /**
   * Waits until the replica {@code id}, just started, has applied what the leader had committed when it began to
   * listen. Returns {ms until the leader's first append reached it (its commit index moved past the one it came
   * back with), ms until caught up}, both from its listening; NaN for what did not happen within {@code timeout}.
   */
  static double[] awaitCaughtUp(ReplicaProcesses replicas, String id, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Long ready = null;
    long target = -1;
    Long startCommit = null;
    double first = Double.NaN;
    // The returning replica's status lines and the leader's arrive every 100 ms; read again until the replica has
    // applied what the leader had committed when it came back, bounded by the timeout.
    while (System.nanoTime() < deadline) {
      if (ready == null) {
        ready = replicas.readyNanos(id);
        String l = replicas.leader();
        ReplicaProcesses.Status ls = l == null || l.equals(id) || ready == null ? null : replicas.status(l);
        if (ls == null) {
          ready = null;
        } else {
          target = ls.commit();
        }
      } else {
        ReplicaProcesses.Status s = replicas.status(id);
        if (s != null && startCommit == null) {
          startCommit = s.commit();
        }
        if (s != null && Double.isNaN(first) && s.commit() > startCommit) {
          first = (System.nanoTime() - ready) / 1e6;
        }
        if (s != null && s.applied() >= target) {
          return new double[] {Double.isNaN(first) ? (System.nanoTime() - ready) / 1e6 : first,
              (System.nanoTime() - ready) / 1e6};
        }
      }
      Thread.sleep(20);
    }
    return new double[] {first, Double.NaN};
  }
}
