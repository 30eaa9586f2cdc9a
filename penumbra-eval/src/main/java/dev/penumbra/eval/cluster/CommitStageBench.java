package dev.penumbra.eval.cluster;

import dev.penumbra.cluster.ClusterConfig;
import dev.penumbra.cluster.ClusterLedger;
import dev.penumbra.cluster.ClusterReplica;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.eval.report.Quantiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Where the time of one client's commit goes ({@code penumbra bench cluster --stages}): three replica processes,
 * one client thread doing reserve + release, each operation its own log entry. The client stamps when a call
 * began, when its entry was handed to the Raft client, when the reply arrived and when the call returned; the
 * leader stamps when the request reached its state machine, when the entry was about to be appended, when it
 * was committed and when it was applied ({@code ClusterReplicaMain --stages}). All stamps are
 * {@link System#nanoTime()}, which every process on one Linux machine shares, so each commit is cut into seven
 * stages that add up to its latency. Ratis' own timers (log sync, follower appendEntries) come beside them.
 */
public final class CommitStageBench {

  /** The stages, in order; their durations add up to the call's latency. */
  public static final List<String> STAGES = List.of(
      "client: call -> sent",
      "request: sent -> leader",
      "leader: arrived -> append",
      "log + replicate + commit",
      "apply",
      "reply: applied -> client",
      "client: reply -> caller");

  /**
   * @param raft Ratis properties set otherwise on every replica ({@code raft.*} keys), the design measured
   * @param colocated the leader runs in this JVM beside the client ({@link ClusterLedger#colocated}: writes
   *     submitted to it without the network), the two followers as processes
   */
  public record Options(Duration measure, Duration warmup, Path workDir, boolean fsync, Duration electionTimeout,
      boolean directSend, Map<String, String> raft, boolean colocated) {

    public Options {
      if (measure == null || measure.isNegative() || measure.isZero() || measure.toSeconds() > 600) {
        throw new IllegalArgumentException("measure must be in (0, 10 min], was " + measure);
      }
      if (warmup == null || warmup.isNegative() || warmup.toSeconds() > 600) {
        throw new IllegalArgumentException("warmup must be in [0, 10 min], was " + warmup);
      }
      if (workDir == null) {
        throw new IllegalArgumentException("workDir must not be null");
      }
      raft = Map.copyOf(raft);
      if (colocated && !raft.isEmpty()) {
        throw new IllegalArgumentException("raft properties apply to replica processes only, not with colocated: "
            + raft);
      }
      for (String k : raft.keySet()) {
        if (!k.startsWith("raft.")) {
          throw new IllegalArgumentException("raft property must start with 'raft.', was '" + k + "'");
        }
      }
    }
  }

  /**
   * One stage over all commits.
   *
   * @param tailMeanMs its mean over the slowest 1% of commits: what the tail is made of
   */
  public record Stage(String name, double p50Ms, double p99Ms, double meanMs, double tailMeanMs) {}

  /**
   * @param quarterP50Ms the median latency in each quarter of the measured window, in order (a median that falls
   *     from the first quarter to the last says the JIT was still compiling while measured)
   * @param resends entries sent again (a leader change in the window)
   * @param timers Ratis' timers with a count, per replica ({@code REPLICA NAME COUNT P50_MS P99_MS MAX_MS})
   */
  public record Result(long commits, double p50Ms, double p99Ms, double maxMs, List<Double> quarterP50Ms,
      long resends, List<Stage> stages, String leader, List<String> timers, String loadBefore, String loadAfter) {}

  /** One call as its caller timed it. */
  record Call(long start, long end) {}

  /** One committed entry as the client traced it. */
  record Trace(long index, int ops, long queued, long sent, long replied) {}

  private static final Duration LEASE = Duration.ofHours(1);

  private CommitStageBench() {}

  public static Result run(Options o, Consumer<String> progress) throws Exception {
    String loadBefore = dev.penumbra.eval.report.MachineLoad.text();
    Path root = Files.createTempDirectory(Files.createDirectories(o.workDir()), "stages-");
    List<String> extra = new ArrayList<>(List.of("--stages"));
    o.raft().forEach((k, v) -> extra.addAll(List.of("--raft", k + "=" + v)));
    List<Call> calls = new ArrayList<>();
    List<Trace> traces = new ArrayList<>();
    ReplicaProcesses replicas = new ReplicaProcesses(root, 3, o.fsync(), o.electionTimeout(), extra,
        o.colocated() ? 1 : 0);
    ClusterReplica local = null;
    String leader;
    long resends;
    try {
      ClusterLedger.Options opts = ClusterLedger.Options.DEFAULTS.withDirectSend(o.directSend());
      ClusterLedger ledger;
      if (o.colocated()) {
        local = ClusterReplica.start(new ClusterConfig("r0", replicas.peers(), o.electionTimeout(),
            ClusterConfig.DEFAULT_SNAPSHOT_EVERY, o.fsync()));
        local.recordCommitStages();
        local.awaitLeader(Duration.ofSeconds(60));
        local.transferLeadershipHere(Duration.ofSeconds(30));
        leader = "r0";
        progress.accept("leader r0 in this JVM beside the client, 2 follower processes"
            + (o.fsync() ? ", fsync on" : ", fsync off"));
        ledger = ClusterLedger.colocated(local, Clock.systemUTC(), opts);
      } else {
        leader = ClusterBench.awaitLeader(replicas, Duration.ofSeconds(60));
        progress.accept("3 replica processes, leader " + leader + (o.fsync() ? ", fsync on" : ", fsync off")
            + (o.raft().isEmpty() ? "" : ", " + o.raft()));
        ledger = ClusterLedger.connect(replicas.peers(), Clock.systemUTC(), opts);
      }
      try (ClusterLedger l = ledger) {
        l.addNode("n0", Resources.cpu(Long.MAX_VALUE / 4));
        loop(l, o.warmup(), null);
        progress.accept("warmed up for " + o.warmup().toSeconds() + " s with one client; measuring");
        l.traceCommits((index, ops, queued, sent, replied) -> {
          synchronized (traces) {
            traces.add(new Trace(index, ops, queued, sent, replied));
          }
        });
        long r0 = l.resends();
        loop(l, o.measure(), calls);
        l.traceCommits(null);
        resends = l.resends() - r0;
        if (o.colocated()) {
          progress.accept(l.localWrites() + " entries submitted to the leader in this JVM");
        }
      }
    } finally {
      replicas.close();
      if (local != null) {
        local.writeCommitStages(replicas.stagesFile("r0"));
        local.close();
      }
    }
    Map<Long, long[]> leaderStamps = new HashMap<>();
    List<String> timers = new ArrayList<>();
    for (var p : replicas.peers()) {
      Path f = replicas.stagesFile(p.id());
      if (!Files.exists(f)) {
        progress.accept("replica " + p.id() + " wrote no stages");
        continue;
      }
      for (String line : Files.readAllLines(f)) {
        String[] x = line.split(" ");
        if (x[0].equals("entry")) {
          leaderStamps.put(Long.parseLong(x[1]), new long[] {Long.parseLong(x[2]), Long.parseLong(x[3]),
              Long.parseLong(x[4]), Long.parseLong(x[5])});
        } else if (x[0].equals("timer") && !x[2].equals("0")) {
          timers.add(p.id() + " " + line.substring("timer ".length()));
        }
      }
    }
    return join(calls, traces, leaderStamps, leader, resends, timers, loadBefore, dev.penumbra.eval.report.MachineLoad.text());
  }

  /** One thread, reserve then release, until {@code d} is over; records each call when {@code calls} is given. */
  private static void loop(ClusterLedger l, Duration d, List<Call> calls) {
    long end = System.nanoTime() + d.toNanos();
    long i = 0;
    while (System.nanoTime() < end) {
      long t0 = System.nanoTime();
      Reservation r = l.reserve("s" + i++, "n0", Resources.cpu(1), Priority.STANDARD, LEASE);
      long t1 = System.nanoTime();
      l.release(r.id());
      long t2 = System.nanoTime();
      if (calls != null) {
        calls.add(new Call(t0, t1));
        calls.add(new Call(t1, t2));
      }
    }
  }

  /** Joins the i-th call with the i-th traced entry (one thread, one operation per entry) and the leader's stamps. */
  static Result join(List<Call> calls, List<Trace> traces, Map<Long, long[]> leaderStamps, String leader,
      long resends, List<String> timers, String loadBefore, String loadAfter) {
    int n = Math.min(calls.size(), traces.size());
    List<double[]> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Call c = calls.get(i);
      Trace t = traces.get(i);
      long[] s = leaderStamps.get(t.index());
      if (t.ops() != 1 || s == null || t.queued() < c.start() || t.replied() > c.end()) {
        continue; // not this call's entry, or the leader did not stamp it
      }
      rows.add(new double[] {
          ms(c.start(), t.sent()), ms(t.sent(), s[0]), ms(s[0], s[1]), ms(s[1], s[2]), ms(s[2], s[3]),
          ms(s[3], t.replied()), ms(t.replied(), c.end()), ms(c.start(), c.end())});
    }
    int total = STAGES.size();
    double[] latency = rows.stream().mapToDouble(r -> r[total]).sorted().toArray();
    double p99 = Quantiles.sorted(latency, 0.99);
    List<Stage> stages = new ArrayList<>();
    for (int k = 0; k < total; k++) {
      int col = k;
      double[] v = rows.stream().mapToDouble(r -> r[col]).sorted().toArray();
      double tail = rows.stream().filter(r -> r[total] >= p99).mapToDouble(r -> r[col]).average().orElse(Double.NaN);
      stages.add(new Stage(STAGES.get(k), Quantiles.sorted(v, 0.5), Quantiles.sorted(v, 0.99),
          Arrays.stream(v).average().orElse(Double.NaN), tail));
    }
    List<Double> quarters = new ArrayList<>();
    for (int q = 0; q < 4; q++) {
      double[] v = calls.subList(calls.size() * q / 4, calls.size() * (q + 1) / 4).stream()
          .mapToDouble(c -> ms(c.start(), c.end())).sorted().toArray();
      quarters.add(Quantiles.sorted(v, 0.5));
    }
    return new Result(rows.size(), Quantiles.sorted(latency, 0.5), p99,
        latency.length == 0 ? Double.NaN : latency[latency.length - 1], quarters, resends, stages, leader, timers,
        loadBefore, loadAfter);
  }

  private static double ms(long from, long to) {
    return (to - from) / 1e6;
  }

  /** The result as lines for a terminal. */
  public static List<String> lines(Result r) {
    List<String> out = new ArrayList<>();
    out.add(String.format(Locale.ROOT, "%d commits (one client, one operation per entry), leader %s: p50 %.2f ms, "
        + "p99 %.2f ms, max %.2f ms; median by quarter of the window %s ms; %d entries resent", r.commits(),
        r.leader(), r.p50Ms(), r.p99Ms(), r.maxMs(), r.quarterP50Ms().stream()
            .map(q -> String.format(Locale.ROOT, "%.2f", q)).toList(), r.resends()));
    out.add(String.format(Locale.ROOT, "%-28s %8s %8s %8s %12s", "stage", "p50 ms", "p99 ms", "mean ms",
        "slowest 1%"));
    for (Stage s : r.stages()) {
      out.add(String.format(Locale.ROOT, "%-28s %8.3f %8.3f %8.3f %12.3f", s.name(), s.p50Ms(), s.p99Ms(),
          s.meanMs(), s.tailMeanMs()));
    }
    out.add("Ratis timers (replica name count p50 p99 max, ms):");
    for (String t : r.timers()) {
      out.add("  " + t);
    }
    out.add("machine load: before " + r.loadBefore() + ", after " + r.loadAfter());
    return out;
  }
}
