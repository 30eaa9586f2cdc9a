package dev.penumbra.cli;

import dev.penumbra.eval.cluster.BareBench;
import dev.penumbra.eval.cluster.ClusterBench;
import dev.penumbra.eval.cluster.ClusterReport;
import dev.penumbra.eval.cluster.CommitStageBench;
import dev.penumbra.eval.cluster.ReachBench;
import dev.penumbra.server.Json;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code penumbra bench cluster}: the Raft-replicated ledger through three replica processes on 127.0.0.1 —
 * throughput and commit latency at several load levels beside the in-memory and unbatched baselines, then
 * leader kills ({@code kill -9}) under load with the history of acknowledged operations checked.
 */
@Command(
    name = "cluster",
    mixinStandardHelpOptions = true,
    description =
      "Starts three ledger replica processes on 127.0.0.1, measures committed reserve+release operations "
      + "per second and commit latency at each --clients level (with the in-memory ledger and the unbatched "
      + "cluster as baselines), then kills the leader with kill -9 --kills times under load and checks that "
      + "no acknowledged operation was lost or applied twice.")
final class BenchClusterCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--clients", paramLabel = "N,N,...", defaultValue = "1,16,256,1024",
      description = "Load levels: concurrent client threads, light to overload. Default: ${DEFAULT-VALUE}.")
  String clients;

  @Option(names = "--seconds", paramLabel = "S", defaultValue = "4",
      description = "Seconds each system runs at each level. Default: ${DEFAULT-VALUE}.")
  double seconds;

  @Option(names = "--warmup", paramLabel = "S", defaultValue = "15",
      description = "Seconds of batched load before measuring (JIT warm-up of the replicas). Default: ${DEFAULT-VALUE}.")
  double warmup;

  @Option(names = "--kills", paramLabel = "N", defaultValue = "10",
      description = "Leader kills (kill -9) in the failover phase. Default: ${DEFAULT-VALUE}.")
  int kills;

  @Option(names = "--max-batch", paramLabel = "N", defaultValue = "512",
      description = "Operations per log entry for the batched client. Default: ${DEFAULT-VALUE}.")
  int maxBatch;

  @Option(names = "--max-in-flight", paramLabel = "N", defaultValue = "2",
      description = "Log entries the batched client keeps sent and unanswered. Default: ${DEFAULT-VALUE}.")
  int maxInFlight;

  @Option(names = "--election-timeout-ms", paramLabel = "MS", defaultValue = "100",
      description = "The replicas' shortest election timeout (they wait up to twice as long for a leader's "
          + "heartbeat). Default: ${DEFAULT-VALUE}.")
  long electionTimeoutMs;

  @Option(names = "--work-dir", paramLabel = "DIR", defaultValue = "target/bench-cluster",
      description = "Where the replicas keep their Raft logs and snapshots. Default: ${DEFAULT-VALUE}.")
  Path workDir;

  @Option(names = "--fsync", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Replicas fsync their Raft log before acknowledging (--no-fsync: page cache only, which "
          + "survives a killed process but not a crashed machine). Default: ${DEFAULT-VALUE}.")
  boolean fsync;

  @Option(names = "--direct-send", negatable = true, defaultValue = "false", fallbackValue = "true",
      description = "An operation that finds the client idle is sent by its caller's thread instead of the "
          + "client's sender thread (a design measured for commit latency). Default: ${DEFAULT-VALUE}.")
  boolean directSend;

  @Option(names = "--stages", negatable = true, defaultValue = "false", fallbackValue = "true",
      description = "Instead of the levels and kills: one client for --seconds after --warmup, each commit cut "
          + "into its stages (client, request, leader, log and replication, apply, reply) by the client's and "
          + "the leader's clocks, with Ratis' own timers. Default: ${DEFAULT-VALUE}.")
  boolean stages;

  @Option(names = "--colocated", negatable = true, defaultValue = "false", fallbackValue = "true",
      description = "With --stages: the leader runs in the client's JVM and takes its writes without the network "
          + "(as on the leader node of serve --cluster); the followers are processes. Default: ${DEFAULT-VALUE}.")
  boolean colocated;

  @Option(names = "--bare", negatable = true, defaultValue = "false", fallbackValue = "true",
      description = "Instead of the levels: the engine's bound. Three Ratis replicas with a state machine that "
          + "applies nothing beside three ledger replicas, in this JVM and then as processes: one client's commit "
          + "latency for --seconds after --warmup, then --kills leader kills of each process group under load. "
          + "Default: ${DEFAULT-VALUE}.")
  boolean bare;

  @Option(names = "--staggered-election", negatable = true, defaultValue = "false", fallbackValue = "true",
      description = "A design of the failure detector to measure: the replicas' election timeouts staggered by rank "
          + "(100-200, 150-250, 200-300 ms at 100), so that two survivors rarely stand together. Default: "
          + "${DEFAULT-VALUE}.")
  boolean staggeredElection;

  @Option(names = "--reach", negatable = true, defaultValue = "false", fallbackValue = "true",
      description = "Instead of the levels: how long the leader takes to reach a replica that was away. Under a light "
          + "load, --trials times each: a follower's data wiped (as a replica started after the election), a "
          + "follower killed with kill -9 and restarted, the leader killed and restarted as a follower; each away "
          + "for --down-seconds. Measured from its restart until it has applied the leader's commit index. Default: "
          + "${DEFAULT-VALUE}.")
  boolean reach;

  @Option(names = "--trials", paramLabel = "N", defaultValue = "5",
      description = "With --reach: trials of each case. Default: ${DEFAULT-VALUE}.")
  int trials;

  @Option(names = "--cases", paramLabel = "CASE,...", split = ",",
      description = "With --reach: the cases to run, of ${COMPLETION-CANDIDATES}. Default: all.")
  List<ReachBench.Case> cases = new ArrayList<>();

  @Option(names = "--down-seconds", paramLabel = "S", defaultValue = "25",
      description = "With --reach: how long the replica stays away in each trial. Default: ${DEFAULT-VALUE}.")
  double downSeconds;

  @Option(names = "--raft", paramLabel = "raft.KEY=VALUE",
      description = "A Ratis property set otherwise on every replica (repeatable): a design of the write path "
          + "or of the failure detector to measure.")
  List<String> raft = new ArrayList<>();

  @Mixin
  ReportFile report;

  @Mixin
  OutputFormat output;

  @Override
  public Integer call() throws Exception {
    List<Integer> levels = OptionChecks.ints(spec, "--clients", clients, "level", 1, 2048);
    OptionChecks.positiveUpTo(spec, "--seconds", seconds, 600);
    OptionChecks.notNegativeUpTo(spec, "--warmup", warmup, 600);
    OptionChecks.between(spec, "--kills", kills, 0, 100);
    OptionChecks.between(spec, "--max-batch", maxBatch, 1, 10_000);
    OptionChecks.between(spec, "--max-in-flight", maxInFlight, 1, 1024);
    OptionChecks.between(spec, "--election-timeout-ms", electionTimeoutMs, 50, 60_000);
    Map<String, String> raftProps = new LinkedHashMap<>();
    for (String kv : raft) {
      int eq = kv.indexOf('=');
      if (eq < 1 || !kv.startsWith("raft.")) {
        throw OptionChecks.invalid(spec, "--raft", kv, "not raft.KEY=VALUE");
      }
      raftProps.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    if (colocated && !stages) {
      throw OptionChecks.invalid(spec, "--colocated", "true", "only with --stages");
    }
    if (colocated && !raftProps.isEmpty()) {
      throw OptionChecks.invalid(spec, "--raft", raft.get(0), "not with --colocated (the leader runs in this JVM)");
    }
    if (staggeredElection && (stages || colocated)) {
      throw OptionChecks.invalid(spec, "--staggered-election", "true", "not with --stages or --colocated");
    }
    if (staggeredElection) {
      raftProps.put(ClusterBench.STAGGER, "true");
    }
    if (bare && (stages || colocated)) {
      throw OptionChecks.invalid(spec, "--bare", "true", "not with --stages or --colocated");
    }
    PrintStream err = System.err;
    if (reach) {
      if (bare || stages || colocated) {
        throw OptionChecks.invalid(spec, "--reach", "true", "not with --bare, --stages or --colocated");
      }
      OptionChecks.between(spec, "--trials", trials, 1, 100);
      OptionChecks.notNegativeUpTo(spec, "--down-seconds", downSeconds, 300);
      err.printf(Locale.ROOT, "bench cluster --reach: %d trials of each case, away %.1f s, fsync %s%n", trials,
          downSeconds, fsync ? "on" : "off");
      ReachBench.Result r = ReachBench.run(new ReachBench.Options(trials,
          Duration.ofMillis((long) (downSeconds * 1000)), workDir, fsync, Duration.ofMillis(electionTimeoutMs),
          raftProps, Duration.ofSeconds(60), java.util.Set.copyOf(cases)), line -> err.println("  " + line));
      if (output.json()) {
        System.out.println(Json.pretty(r));
      } else {
        ReachBench.lines(r).forEach(System.out::println);
      }
      return r.summaries().stream().allMatch(s -> s.notReached() == 0) ? 0 : 1;
    }
    if (bare) {
      err.printf(Locale.ROOT, "bench cluster --bare: one client, %.1f s after %.1f s of warm-up, %d kills, fsync %s%n",
          seconds, warmup, kills, fsync ? "on" : "off");
      BareBench.Result r = BareBench.run(new BareBench.Options(Duration.ofMillis((long) (seconds * 1000)),
          Duration.ofMillis((long) (warmup * 1000)), kills, workDir, fsync, Duration.ofMillis(electionTimeoutMs),
          raftProps), line -> err.println("  " + line));
      if (output.json()) {
        System.out.println(Json.pretty(r));
      } else {
        BareBench.lines(r).forEach(System.out::println);
      }
      return 0;
    }
    if (stages) {
      err.printf(Locale.ROOT, "bench cluster --stages: one client, %.1f s after %.1f s of warm-up, fsync %s%s%n",
          seconds, warmup, fsync ? "on" : "off", colocated ? ", leader in this JVM" : "");
      CommitStageBench.Result r = CommitStageBench.run(new CommitStageBench.Options(
          Duration.ofMillis((long) (seconds * 1000)), Duration.ofMillis((long) (warmup * 1000)), workDir, fsync,
          Duration.ofMillis(electionTimeoutMs), directSend, raftProps, colocated), line -> err.println("  " + line));
      if (output.json()) {
        System.out.println(Json.pretty(r));
      } else {
        CommitStageBench.lines(r).forEach(System.out::println);
      }
      return 0;
    }
    ClusterBench.Options o = new ClusterBench.Options(levels, Duration.ofMillis((long) (seconds * 1000)), kills,
        maxBatch, workDir, fsync, Duration.ofMillis((long) (warmup * 1000)), maxInFlight,
        Duration.ofMillis(electionTimeoutMs), directSend, raftProps);
    err.printf(Locale.ROOT, "bench cluster: levels %s clients, %.1f s each, %d leader kills, fsync %s, "
        + "%d entries in flight, election timeout %d ms, direct send %s%n", levels, seconds, kills,
        fsync ? "on" : "off", maxInFlight, electionTimeoutMs, directSend ? "on" : "off");
    ClusterBench.Result r = ClusterBench.run(o, line -> err.println("  " + line));
    report.write(w -> ClusterReport.write(r, levels, w));
    PrintStream out = System.out;
    if (output.json()) {
      out.println(Json.pretty(r));
    } else {
      out.printf(Locale.ROOT, "%-24s %7s %10s %10s %8s %8s %7s %9s %10s %12s%n", "system", "clients", "ops/s",
          "pairs/s", "p50 ms", "p99 ms", "errors", "ops/entry", "CPU us/op", "idle ops/s");
      for (ClusterBench.Level l : r.levels()) {
        out.printf(Locale.ROOT, "%-24s %7d %10.0f %10.0f %8.2f %8.2f %7d %9.1f %10.1f %12.0f%n", l.system(),
            l.clients(), l.opsPerSec(), l.pairsPerSec(), l.p50Ms(), l.p99Ms(), l.errors(), l.opsPerBatch(),
            l.cpuMicrosPerOp(), l.idleMachineOpsPerSec());
      }
      for (int i = 0; i < levels.size(); i++) {
        out.printf(Locale.ROOT, "%d clients: batched / in-memory %.3f, batched / unbatched %.2f%n", levels.get(i),
            r.ratioToInMemory().get(i), r.ratioToUnbatched().get(i));
      }
      out.printf(Locale.ROOT, "failover over %d kill -9 of the leader: p50 %.0f ms, p99 %.0f ms, max %.0f ms "
          + "(target p99 < 1000 ms)%n", r.failovers().size(), r.failoverP50Ms(), r.failoverP99Ms(),
          r.failoverMaxMs());
      List<Double> fp = r.failoverParts();
      out.printf(Locale.ROOT, "failover parts p50 / p99 ms: detect %.0f / %.0f, election %.0f / %.0f, leader ready "
          + "%.0f / %.0f, client %.0f / %.0f%n", fp.get(0), fp.get(1), fp.get(2), fp.get(3), fp.get(4), fp.get(5),
          fp.get(6), fp.get(7));
      double[] back = r.rejoinMs().stream().mapToDouble(Double::doubleValue).sorted().toArray();
      out.printf(Locale.ROOT, "restarted old leader caught up after: median %.0f ms, max %.0f ms (NaN: not within "
          + "60 s)%n", back.length == 0 ? Double.NaN : back[back.length / 2],
          back.length == 0 ? Double.NaN : back[back.length - 1]);
      out.printf(Locale.ROOT, "without a kill (warm-up and levels): %d follower stand(s) for election, %d new "
          + "leader(s) (target 0)%n", r.standsWithoutKill(), r.leaderChangesWithoutKill());
      out.printf(Locale.ROOT, "acknowledged %d, unknown outcome %d, lost %d, duplicated %d (target 0 and 0)%n",
          r.acknowledged(), r.unknown(), r.lost(), r.duplicated());
      out.printf(Locale.ROOT, "disk: fsync of a small append p50 %.2f ms, p99 %.2f ms%n", r.diskFsyncP50Ms(),
          r.diskFsyncP99Ms());
      out.printf(Locale.ROOT, "machine load: before %s, after %s%n", r.loadBefore(), r.loadAfter());
    }
    return r.lost() == 0 && r.duplicated() == 0 ? 0 : 1;
  }
}
