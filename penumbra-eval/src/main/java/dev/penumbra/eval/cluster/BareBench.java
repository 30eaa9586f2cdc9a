package dev.penumbra.eval.cluster;

import dev.penumbra.cluster.BareClient;
import dev.penumbra.cluster.ClusterConfig;
import dev.penumbra.cluster.ClusterLedger;
import dev.penumbra.cluster.ClusterPeer;
import dev.penumbra.cluster.ClusterReplica;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.eval.report.MachineLoad;
import dev.penumbra.eval.report.Quantiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;

/**
 * {@code penumbra bench cluster --bare}: the bound of the engine on this machine. Three Ratis replicas with a state
 * machine that applies nothing ({@link ClusterReplica#startBare}: the same transport, log, fsync and timeouts as
 * the ledger's replicas) beside three ledger replicas, first all in this JVM, then as three processes as {@code
 * bench cluster} runs them. For each: one client's commit latency (one entry per call, the next call once the
 * previous returned), then, for the processes, the leader killed with {@code kill -9} under a load of 8 threads,
 * each time the time until a fresh client's write commits, cut into its parts as {@code bench cluster} does.
 * The difference between the bare and the ledger rows is the ledger's own cost (state machine, codec, client);
 * what the bare rows show is Ratis on this machine.
 */
public final class BareBench {

  /**
   * @param measure how long one client commits in each setup
   * @param warmup one client's commits before measuring, in each setup
   * @param kills leader kills in each process setup
   * @param raft Ratis properties set otherwise on every replica ({@code raft.*} keys): a design to measure
   */
  public record Options(Duration measure, Duration warmup, int kills, Path workDir, boolean fsync,
      Duration electionTimeout, Map<String, String> raft) {

    public Options {
      if (measure == null || measure.isNegative() || measure.isZero() || measure.toSeconds() > 600) {
        throw new IllegalArgumentException("measure must be in (0, 10 min], was " + measure);
      }
      if (warmup == null || warmup.isNegative() || warmup.toSeconds() > 600) {
        throw new IllegalArgumentException("warmup must be in [0, 10 min], was " + warmup);
      }
      if (kills < 0 || kills > 100) {
        throw new IllegalArgumentException("kills must be 0..100, was " + kills);
      }
      if (workDir == null) {
        throw new IllegalArgumentException("workDir must not be null");
      }
      raft = Map.copyOf(raft);
      raft.keySet().stream().filter(k -> !k.startsWith("raft.") && !k.equals(ClusterBench.STAGGER)).findFirst().ifPresent(k -> {
        throw new IllegalArgumentException("raft keys must start with 'raft.', was '" + k + "'");
      });
    }
  }

  /** One client's commits in one setup: {@code system} is bare or ledger, {@code placement} one JVM or processes. */
  public record Commits(String system, String placement, long commits, double p50Ms, double p99Ms, double maxMs,
      String load) {}

  /** The leader kills of one setup, with the parts' medians and 99th percentiles (detect, election, ready, client). */
  public record Kills(String system, List<ClusterBench.Failover> failovers, double p50Ms, double p99Ms,
      double maxMs, int under1s, List<Double> parts, String load) {}

  public record Result(List<Commits> commits, List<Kills> kills, String loadBefore, String loadAfter) {}

  static final String BARE = "bare Ratis";
  static final String LEDGER = "ledger";

  /** What a setup's client does: one committed write per call. */
  private interface Writer extends AutoCloseable {
    void write() throws Exception;

    @Override
    void close() throws IOException;
  }

  private BareBench() {}

  public static Result run(Options o, Consumer<String> progress) throws Exception {
    String loadBefore = MachineLoad.text();
    Path root = Files.createTempDirectory(Files.createDirectories(o.workDir()), "bare-");
    List<Commits> commits = new ArrayList<>();
    List<Kills> kills = new ArrayList<>();
    for (boolean bare : new boolean[] {true, false}) {
      commits.add(inOneJvm(bare, root.resolve((bare ? "bare" : "ledger") + "-jvm"), o, progress));
    }
    for (boolean bare : new boolean[] {true, false}) {
      Path dir = Files.createDirectories(root.resolve((bare ? "bare" : "ledger") + "-processes"));
      List<String> extra = new ArrayList<>();
      if (bare) {
        extra.add("--bare");
      }
      o.raft().forEach((k, v) -> extra.addAll(List.of("--raft", k + "=" + v)));
      try (ReplicaProcesses replicas = new ReplicaProcesses(dir, 3, o.fsync(), o.electionTimeout(), extra)) {
        ClusterBench.awaitLeader(replicas, Duration.ofSeconds(60));
        try (Writer w = writer(bare, replicas.peers(), o.electionTimeout())) {
          commits.add(measure(bare ? BARE : LEDGER, "3 processes", w, o, progress));
        }
        if (o.kills() > 0) {
          kills.add(kills(bare, replicas, o, progress));
        }
      }
    }
    return new Result(commits, kills, loadBefore, MachineLoad.text());
  }

  private static Commits inOneJvm(boolean bare, Path dir, Options o, Consumer<String> progress) throws Exception {
    // The peers (ports and directories) only: the three replicas run here.
    try (ReplicaProcesses none = new ReplicaProcesses(dir, 3, o.fsync(), o.electionTimeout(), List.of(), 3)) {
      List<ClusterReplica> replicas = new ArrayList<>();
      try {
        for (ClusterPeer p : none.peers()) {
          ClusterConfig c = new ClusterConfig(p.id(), none.peers(), o.electionTimeout(),
              ClusterConfig.DEFAULT_SNAPSHOT_EVERY, o.fsync());
          replicas.add(bare ? ClusterReplica.startBare(c) : ClusterReplica.start(c));
        }
        replicas.get(0).awaitLeader(Duration.ofSeconds(60));
        try (Writer w = writer(bare, none.peers(), o.electionTimeout())) {
          return measure(bare ? BARE : LEDGER, "1 JVM", w, o, progress);
        }
      } finally {
        for (ClusterReplica r : replicas) {
          r.close();
        }
      }
    }
  }

  /** A bare write (one empty entry), or the ledger's one-client loop (reserve, then release it: one entry each). */
  private static Writer writer(boolean bare, List<ClusterPeer> peers, Duration electionTimeout) {
    if (bare) {
      BareClient c = BareClient.connect(peers, electionTimeout);
      return new Writer() {
        @Override
        public void write() throws IOException {
          c.write(Duration.ofSeconds(30));
        }

        @Override
        public void close() throws IOException {
          c.close();
        }
      };
    }
    ClusterLedger l = ClusterLedger.connect(peers, Clock.systemUTC(),
        ClusterLedger.Options.DEFAULTS.withTimeout(Duration.ofSeconds(30)));
    if (l.nodes().isEmpty()) {
      l.addNode("n0", Resources.cpu(Long.MAX_VALUE / 4));
    }
    AtomicLong seq = new AtomicLong();
    return new Writer() {
      private Reservation held;

      @Override
      public synchronized void write() {
        if (held == null) {
          held = l.reserve("b" + seq.incrementAndGet(), "n0", Resources.cpu(1), Priority.STANDARD,
              Duration.ofHours(1));
        } else {
          l.release(held.id());
          held = null;
        }
      }

      @Override
      public void close() {
        l.close();
      }
    };
  }

  private static Commits measure(String system, String placement, Writer w, Options o, Consumer<String> progress)
      throws Exception {
    loop(w, o.warmup(), null);
    Histogram h = new Histogram(3);
    loop(w, o.measure(), h);
    Commits c = new Commits(system, placement, h.getTotalCount(), h.getValueAtPercentile(50) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0, MachineLoad.text());
    progress.accept(String.format(Locale.ROOT, "%-10s %-11s one client: %d commits, p50 %.2f ms, p99 %.2f ms, "
        + "max %.1f ms (load %s)", system, placement, c.commits(), c.p50Ms(), c.p99Ms(), c.maxMs(), c.load()));
    return c;
  }

  private static void loop(Writer w, Duration d, Histogram h) throws Exception {
    long end = System.nanoTime() + d.toNanos();
    while (System.nanoTime() < end) {
      long t0 = System.nanoTime();
      w.write();
      if (h != null) {
        h.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
      }
    }
  }

  /** Kills the leader {@code o.kills()} times under a load of 8 threads; each time, until a fresh client commits. */
  private static Kills kills(boolean bare, ReplicaProcesses replicas, Options o, Consumer<String> progress)
      throws Exception {
    String system = bare ? BARE : LEDGER;
    List<ClusterBench.Failover> fs = new ArrayList<>();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicBoolean paused = new AtomicBoolean();
    long hardStop = System.nanoTime() + Duration.ofSeconds(60L * o.kills() + 60).toNanos();
    List<Thread> load = new ArrayList<>();
    {
      // 8 clients of their own, each with one entry in flight, for both systems alike
      for (int t = 0; t < 8; t++) {
        Writer own = writer(bare, replicas.peers(), o.electionTimeout());
        load.add(Thread.ofPlatform().daemon().start(() -> {
          try (own) {
            while (!stop.get() && System.nanoTime() < hardStop) {
              if (paused.get()) {
                java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
                continue;
              }
              try {
                own.write();
              } catch (Exception e) {
                // a write in flight at the kill may fail; the load goes on
              }
            }
          } catch (IOException e) {
            // closing
          }
        }));
      }
      for (int k = 1; k <= o.kills(); k++) {
        paused.set(true);
        ClusterBench.awaitAllCaughtUp(replicas, Duration.ofSeconds(60));
        paused.set(false);
        Thread.sleep(300); // the load runs for a moment before the kill, by design
        String leader = replicas.leader();
        try (Writer probe = writer(bare, replicas.peers(), o.electionTimeout())) {
          probe.write(); // connected, leader known
          long t0 = System.nanoTime();
          replicas.kill9(leader);
          double ms;
          try {
            probe.write();
            ms = (System.nanoTime() - t0) / 1e6;
          } catch (Exception e) {
            ms = (System.nanoTime() - t0) / 1e6;
            progress.accept("no write committed within " + Math.round(ms) + " ms of the kill: " + e.getMessage());
          }
          long t1 = t0 + (long) (ms * 1e6);
          String next = ClusterBench.awaitLeader(replicas, Duration.ofSeconds(30));
          ClusterBench.Failover f = ClusterBench.parts(k, leader, next, ms, t0, t1, replicas.roleEventsSince(t0));
          fs.add(f);
          progress.accept(String.format(Locale.ROOT, "%s: kill -9 %d/%d of leader %s: committed again after %.0f ms "
                  + "(new leader %s): detect %.0f, election %.0f (%d stand(s)), leader ready %.0f, client %.0f ms",
              system, k, o.kills(), leader, ms, next, f.detectMs(), f.electionMs(), f.stands(), f.readyMs(),
              f.clientMs()));
          progress.accept("    timeline (ms after the kill): "
              + ClusterBench.timeline(leader, t0, t1, replicas.roleEventsSince(t0)));
        }
        replicas.start(leader);
      }
      stop.set(true);
      for (Thread t : load) {
        t.join(Duration.ofSeconds(60));
      }
    }
    double[] ms = fs.stream().mapToDouble(ClusterBench.Failover::millisToCommit).sorted().toArray();
    int under = (int) fs.stream().filter(f -> f.millisToCommit() < 1000).count();
    Kills result = new Kills(system, fs, Quantiles.of(ms, 0.5), Quantiles.of(ms, 0.99),
        ms.length == 0 ? Double.NaN : ms[ms.length - 1], under, ClusterBench.parts(fs), MachineLoad.text());
    progress.accept(String.format(Locale.ROOT, "%s: new leader over %d kills: p50 %.0f ms, p99 %.0f ms, %d under 1 s "
        + "(load %s)", system, fs.size(), result.p50Ms(), result.p99Ms(), under, result.load()));
    return result;
  }

  /** The result as lines for a person. */
  public static List<String> lines(Result r) {
    List<String> out = new ArrayList<>();
    out.add(String.format(Locale.ROOT, "%-11s %-12s %8s %8s %8s %8s  %s", "system", "placement", "commits", "p50 ms",
        "p99 ms", "max ms", "load"));
    for (Commits c : r.commits()) {
      out.add(String.format(Locale.ROOT, "%-11s %-12s %8d %8.2f %8.2f %8.1f  %s", c.system(), c.placement(),
          c.commits(), c.p50Ms(), c.p99Ms(), c.maxMs(), c.load()));
    }
    for (Kills k : r.kills()) {
      List<Double> p = k.parts();
      out.add(String.format(Locale.ROOT, "%s, 3 processes: new leader over %d kill -9: p50 %.0f ms, p99 %.0f ms, "
              + "max %.0f ms, %d under 1 s; parts p50/p99 ms: detect %.0f/%.0f, election %.0f/%.0f, leader ready "
              + "%.0f/%.0f, client %.0f/%.0f (load %s)", k.system(), k.failovers().size(), k.p50Ms(), k.p99Ms(),
          k.maxMs(), k.under1s(), p.get(0), p.get(1), p.get(2), p.get(3), p.get(4), p.get(5), p.get(6), p.get(7),
          k.load()));
    }
    out.add("machine load: before " + r.loadBefore() + ", after " + r.loadAfter());
    return out;
  }
}
