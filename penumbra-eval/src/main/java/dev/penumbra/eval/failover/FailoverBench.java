package dev.penumbra.eval.failover;

import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Allocator;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.failover.BackblazeData;
import dev.penumbra.failover.FailoverEvent;
import dev.penumbra.failover.FailureDataset;
import dev.penumbra.failover.FailureFeatures;
import dev.penumbra.failover.FailureModel;
import dev.penumbra.failover.FailurePredictionEngine;
import dev.penumbra.failover.NodeStatus;
import dev.penumbra.failover.ShadowNodeManager;
import dev.penumbra.failover.SmartRecord;
import dev.penumbra.failover.StandbyState;
import dev.penumbra.failover.Thresholds;
import dev.penumbra.failover.WorkloadOrchestrator;
import dev.penumbra.failover.pg.Endpoint;
import dev.penumbra.failover.pg.PgBinaries;
import dev.penumbra.failover.pg.PgNodeDriver;
import dev.penumbra.eval.report.MachineLoad;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code penumbra bench failover}: live PostgreSQL nodes, each paired with one drive of the test days, whose SMART
 * history is replayed in compressed time (one day per {@code secondsPerDay}); when the drive's record says it
 * failed, the node's postmaster is killed with SIGKILL. A writer per node commits continuously and records every
 * acknowledged commit; at the end each node's current primary is checked for all of them. The same drives and
 * writers run under each policy in turn: {@code none} (replacement from the archive after the failure),
 * {@code always} (a synchronous standby per node all the time) and {@code penumbra} (standby at the provision
 * threshold, promotion at the promote threshold or on detected failure).
 *
 * <p>Drive choice (fixed by the data, the model and the seed; see {@link #chooseDrives}): half the nodes get failing
 * drives of the test days, the best-predicted failure first (highest risk before failing), then the least
 * predicted; the other half get healthy drives, the one the model rates riskiest first (its worst false alarm),
 * then seeded random ones.
 *
 * <p>About 620 lines: the nodes, the drives' replay, the writers and the per-policy checks run as one timeline
 * over the same live PostgreSQL processes; split, each part would need the others' state to know what a kill
 * may have cost.
 */
public final class FailoverBench {

  /**
   * Every policy: {@code penumbra-reprovision} is penumbra with a new standby right after a move while the node's
   * last risk is at the provision threshold (the manager's {@code reprovisionAfterMove}); without it a moved node
   * waits for its new hardware's first observation. Run it with {@code --policy} to compare.
   */
  public static final List<String> POLICIES = List.of("none", "always", "penumbra", "penumbra-reprovision");

  /** The policies a run has by default. */
  public static final List<String> DEFAULT_POLICIES = List.of("none", "always", "penumbra");

  /**
   * What to run.
   *
   * @param data folder of daily Backblaze files (split by date: the earlier {@code trainShare} trains the model)
   * @param nodes live nodes, 1-8
   * @param secondsPerDay wall seconds per replayed day, in [0.2, 60]
   * @param commitsPerSecond each writer's commit rate, 1-2000
   * @param thresholds penumbra's thresholds
   * @param tune whether to replace them by thresholds chosen on the training days ({@link #tune})
   * @param budget penumbra's standby budget
   * @param policies which policies to run, of {@link #POLICIES}
   * @param trainShare share of the days that train the model
   * @param horizonDays the model's horizon
   * @param seed drive choice seed
   * @param warmConnections connections each endpoint opens to a ready standby in advance (0-16; 0: none)
   */
  public record Options(Path data, int nodes, double secondsPerDay, int commitsPerSecond, Thresholds thresholds,
      boolean tune, int budget, List<String> policies, double trainShare, int horizonDays, long seed,
      int warmConnections) {
    public Options {
      if (warmConnections < 0 || warmConnections > 16) {
        throw new IllegalArgumentException("warmConnections must be in 0..16, was " + warmConnections);
      }
      if (nodes < 1 || nodes > 8) {
        throw new IllegalArgumentException("nodes must be in 1..8, was " + nodes);
      }
      if (!(secondsPerDay >= 0.2 && secondsPerDay <= 60)) {
        throw new IllegalArgumentException("secondsPerDay must be in [0.2, 60], was " + secondsPerDay);
      }
      if (commitsPerSecond < 1 || commitsPerSecond > 2000) {
        throw new IllegalArgumentException("commitsPerSecond must be in 1..2000, was " + commitsPerSecond);
      }
      if (budget < 0) {
        throw new IllegalArgumentException("budget must be >= 0, was " + budget);
      }
      for (String p : policies) {
        if (!POLICIES.contains(p)) {
          throw new IllegalArgumentException("unknown policy '" + p + "'; known: " + POLICIES);
        }
      }
      policies = List.copyOf(policies);
      if (policies.isEmpty()) {
        throw new IllegalArgumentException("at least one policy must run");
      }
    }

    public static Options defaults(Path data) {
      return new Options(data, 4, 1.0, 100, Thresholds.fixed(), true, 2, DEFAULT_POLICIES, 0.6, 3, 42,
          PgNodeDriver.DEFAULT_WARM_CONNECTIONS);
    }
  }

  /**
   * A node's drive and what happened to it under one policy. {@code downtimeSeconds}: the outage its failure or
   * first move caused, from the writer's last acknowledged commit before the kill or the hold of its clients to its
   * first acknowledged commit on the new primary. {@code longestStallSeconds}: its longest time without an
   * acknowledged commit over the whole replay, whatever the cause (a loaded machine stalls synchronous commits of
   * nodes that never move too).
   */
  public record NodeResult(String node, String drive, String why, LocalDate failsOn, double maxRisk,
      boolean killed, List<FailoverEvent> moves, long acknowledged, long lost, double downtimeSeconds,
      double detectionSeconds, double standbySeconds, int standbysProvisioned, List<RiskPoint> risks,
      MoveTimeline firstMove, double longestStallSeconds, double standbySecondsAfterMove,
      double exposedSecondsAfterMove) {}

  /** The node's risk on a replayed day, and its standby then (after the manager saw the risk). */
  public record RiskPoint(LocalDate day, double risk, StandbyState standby) {}

  /**
   * Where the writer's time without a commit went in the node's first move (milliseconds): from its last
   * acknowledged commit to the hold of its clients (a commit in flight, lost to the fence), from the hold to the
   * redirect (fence and promotion or restore), from the redirect to its first acknowledged commit on the new primary
   * (connection, commit waiting for the synchronous archive receiver on the new timeline); and how many warm
   * connections the endpoint had for it; and where the node's longest stall of the replay started, relative to the
   * hold (negative: before the move).
   */
  public record MoveTimeline(double lastAckToHoldMillis, double holdToRedirectMillis,
      double redirectToFirstAckMillis, int warmConnections, double longestGapStartMillis) {}

  /** One policy's figures; the machine's 1-minute load average when the policy started and ended. */
  public record PolicyResult(String policy, List<NodeResult> nodes, int failures, double downtimeP50,
      double downtimeMax, long acknowledged, long lost, double standbyDays, int standbysForHealthyNodes,
      int movedBeforeKill, double wallSeconds, double loadAtStart, double loadAtEnd, double longestStallSeconds,
      double standbyDaysAfterMoves, double exposedSecondsAfterMoves) {}

  public record Result(String trainPeriod, String testPeriod, int nodes, double secondsPerDay, int commitsPerSecond,
      Thresholds thresholds, boolean tuned, int budget, List<PolicyResult> policies) {}

  /** A chosen drive. */
  record Drive(String serial, String why, List<SmartRecord> prior, List<SmartRecord> history, LocalDate failsOn,
      double maxRisk) {}

  private FailoverBench() {}

  public static Result run(Options o, PrintStream progress) throws Exception {
    PgBinaries bin = PgBinaries.find().orElseThrow(() -> new IllegalStateException(
        "PostgreSQL server binaries not found under /usr/lib/postgresql/N/bin: apt-get install postgresql"));
    List<Path> files = BackblazeData.dailyFiles(o.data());
    int cut = (int) Math.round(files.size() * o.trainShare());
    if (cut < 2 || cut >= files.size()) {
      throw new IllegalArgumentException("trainShare " + o.trainShare() + " of " + files.size() + " days leaves "
          + "no test day or fewer than 2 training days");
    }
    List<SmartRecord> train = FailureBench.read(files.subList(0, cut), progress);
    List<SmartRecord> test = FailureBench.read(files.subList(cut, files.size()), progress);
    FailureDataset trainSet = FailureDataset.of(train, List.of(), o.horizonDays());
    FailureModel model = FailureModel.train(trainSet, FailureModel.Options.defaults().withSeed(o.seed()));
    FailureDataset testSet = FailureDataset.of(test, train, o.horizonDays());
    List<Drive> drives = chooseDrives(testSet, train, model, o.nodes(), o.seed());
    List<Drive> replacements = chooseReplacements(testSet, train, drives, o.nodes(), o.seed());
    Thresholds thresholds = o.thresholds();
    if (o.tune()) {
      thresholds = tune(trainSet, model);
      progress.printf("thresholds by alarm rate on the training days (the product's default): %s%n", thresholds);
    }
    for (Drive d : drives) {
      progress.printf("drive %s: %s (max risk %.3f%s)%n", d.serial(), d.why(), d.maxRisk(),
          d.failsOn() == null ? "" : ", fails " + d.failsOn());
    }
    List<PolicyResult> results = new ArrayList<>();
    for (String policy : o.policies()) {
      progress.printf("policy %s: starting %d nodes%n", policy, drives.size());
      results.add(runPolicy(policy, drives, replacements, model, testSet, o, thresholds, bin, progress));
    }
    return new Result(trainSet.first() + ".." + trainSet.last(), testSet.first() + ".." + testSet.last(),
        drives.size(), o.secondsPerDay(), o.commitsPerSecond(), thresholds, o.tune(), o.budget(), results);
  }

  /** See the class comment. */
  static List<Drive> chooseDrives(FailureDataset test, List<SmartRecord> before, FailureModel model, int n,
      long seed) {
    Map<String, List<SmartRecord>> prior = new HashMap<>();
    for (SmartRecord r : before) {
      prior.computeIfAbsent(r.serial(), k -> new ArrayList<>()).add(r);
    }
    prior.values().forEach(l -> l.sort(Comparator.comparing(SmartRecord::date)));
    Map<String, List<FailureDataset.Row>> bySerial = new LinkedHashMap<>();
    for (FailureDataset.Row r : test.rows()) {
      bySerial.computeIfAbsent(r.record().serial(), k -> new ArrayList<>()).add(r);
    }
    record Scored(String serial, double maxRisk, LocalDate failsOn, List<FailureDataset.Row> rows) {}
    List<Scored> failing = new ArrayList<>();
    List<Scored> healthy = new ArrayList<>();
    for (Map.Entry<String, List<FailureDataset.Row>> e : bySerial.entrySet()) {
      List<FailureDataset.Row> rows = e.getValue();
      double max = 0;
      for (FailureDataset.Row r : rows) {
        max = Math.max(max, model.probability(r.features()));
      }
      LocalDate failsOn = rows.get(rows.size() - 1).record().failed() ? rows.get(rows.size() - 1).record().date()
          : null;
      // Replayed from the first test day, so a node exists before its drive's troubles.
      if (!rows.get(0).record().date().equals(test.first())) {
        continue;
      }
      (failsOn != null ? failing : healthy).add(new Scored(e.getKey(), max, failsOn, rows));
    }
    failing.sort(Comparator.comparingDouble(Scored::maxRisk).reversed().thenComparing(Scored::serial));
    healthy.sort(Comparator.comparingDouble(Scored::maxRisk).reversed().thenComparing(Scored::serial));
    List<Drive> out = new ArrayList<>();
    int wantFailing = Math.min(failing.size(), (n + 1) / 2);
    for (int i = 0; i < wantFailing; i++) {
      // Alternate: the best-predicted failure, the least predicted, the second best, ...
      Scored s = i % 2 == 0 ? failing.get(i / 2) : failing.get(failing.size() - 1 - i / 2);
      out.add(new Drive(s.serial(), i % 2 == 0 ? "failing, best predicted" : "failing, least predicted",
          lastDays(prior.get(s.serial())), s.rows().stream().map(FailureDataset.Row::record).toList(), s.failsOn(), s.maxRisk()));
    }
    Random rng = new Random(seed);
    Set<String> used = new HashSet<>();
    for (int i = 0; out.size() < n && i < healthy.size(); i++) {
      Scored s = i == 0 ? healthy.get(0) : healthy.get(1 + rng.nextInt(healthy.size() - 1));
      if (!used.add(s.serial())) {
        continue;
      }
      out.add(new Drive(s.serial(), i == 0 ? "healthy, riskiest" : "healthy, random",
          lastDays(prior.get(s.serial())), s.rows().stream().map(FailureDataset.Row::record).toList(), null, s.maxRisk()));
    }
    return out;
  }

  /**
   * One replacement drive per node: the hardware a node runs on after its work moved (its new primary), whose
   * telemetry the node replays from the move on. Seeded random healthy drives of the test days that no node
   * replays at first (a replacement is a machine of the fleet, most of which do not fail within the period).
   */
  static List<Drive> chooseReplacements(FailureDataset test, List<SmartRecord> before, List<Drive> chosen, int n,
      long seed) {
    Set<String> used = new HashSet<>();
    chosen.forEach(d -> used.add(d.serial()));
    Map<String, List<SmartRecord>> bySerial = new java.util.TreeMap<>();
    for (FailureDataset.Row r : test.rows()) {
      bySerial.computeIfAbsent(r.record().serial(), k -> new ArrayList<>()).add(r.record());
    }
    List<String> healthy = new ArrayList<>();
    for (Map.Entry<String, List<SmartRecord>> e : bySerial.entrySet()) {
      List<SmartRecord> h = e.getValue();
      h.sort(Comparator.comparing(SmartRecord::date));
      if (!used.contains(e.getKey()) && h.get(0).date().equals(test.first()) && !h.get(h.size() - 1).failed()) {
        healthy.add(e.getKey());
      }
    }
    java.util.Collections.shuffle(healthy, new Random(seed + 1));
    Map<String, List<SmartRecord>> prior = new HashMap<>();
    for (SmartRecord r : before) {
      if (healthy.subList(0, Math.min(n, healthy.size())).contains(r.serial())) {
        prior.computeIfAbsent(r.serial(), k -> new ArrayList<>()).add(r);
      }
    }
    List<Drive> out = new ArrayList<>();
    for (String serial : healthy.subList(0, Math.min(n, healthy.size()))) {
      List<SmartRecord> p = prior.getOrDefault(serial, new ArrayList<>());
      p.sort(Comparator.comparing(SmartRecord::date));
      out.add(new Drive(serial, "replacement", lastDays(p), bySerial.get(serial), null, Double.NaN));
    }
    return out;
  }

  /** The records of the last days before the replay that the features' growth terms read. */
  private static List<SmartRecord> lastDays(List<SmartRecord> records) {
    if (records == null) {
      return List.of();
    }
    return List.copyOf(records.subList(Math.max(0, records.size() - FailureFeatures.DELTA_DAYS), records.size()));
  }

  /** The product's default thresholds, chosen on the training days alone (as the server chooses them). */
  public static Thresholds tune(FailureDataset train, FailureModel model) {
    return Thresholds.atAlarmRates(train, model);
  }

  /** One writer: commits at a fixed rate through the node's endpoint, recording each acknowledged id and time. */
  static final class Writer implements Runnable {
    final Endpoint endpoint;
    final long periodNanos;
    final AtomicBoolean stop;
    final List<Long> acked = new ArrayList<>();
    final List<Long> ackedAt = new ArrayList<>();

    Writer(Endpoint endpoint, int perSecond, AtomicBoolean stop) {
      this.endpoint = endpoint;
      this.periodNanos = 1_000_000_000L / perSecond;
      this.stop = stop;
    }

    @Override
    public void run() {
      long id = 0;
      long next = System.nanoTime();
      Connection c = null;
      while (!stop.get()) {
        try {
          if (c == null) {
            c = endpoint.connect();
          }
          try (Statement st = c.createStatement()) {
            st.execute("INSERT INTO acked VALUES (" + id + ")");
          }
          synchronized (this) {
            acked.add(id);
            ackedAt.add(System.nanoTime());
          }
        } catch (SQLException e) {
          closeQuietly(c);
          c = null;
        }
        id++;
        next += periodNanos;
        long wait = next - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        } else if (wait < -1_000_000_000L) {
          next = System.nanoTime();
        }
      }
      closeQuietly(c);
    }

    /** The time of the last acknowledged commit before {@code nanos}, or Long.MIN_VALUE. */
    synchronized long lastAckBefore(long nanos) {
      long last = Long.MIN_VALUE;
      for (long t : ackedAt) {
        if (t >= nanos) {
          break;
        }
        last = t;
      }
      return last;
    }

    /** The time of the first acknowledged commit at or after {@code nanos}, or Long.MAX_VALUE. */
    synchronized long firstAckAfter(long nanos) {
      for (long t : ackedAt) {
        if (t >= nanos) {
          return t;
        }
      }
      return Long.MAX_VALUE;
    }

    /** Start and end of the longest time without an acknowledged commit from {@code fromNanos} on. */
    synchronized long[] gap(long fromNanos, long endNanos) {
      long prev = fromNanos;
      long[] max = {fromNanos, fromNanos};
      for (long t : ackedAt) {
        if (t < fromNanos) {
          prev = t;
          continue;
        }
        if (t - prev > max[1] - max[0]) {
          max = new long[] {prev, t};
        }
        prev = t;
      }
      if (endNanos - prev > max[1] - max[0]) {
        max = new long[] {prev, endNanos};
      }
      return max;
    }
  }

  static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // Broken already.
      }
    }
  }

  static PolicyResult runPolicy(String policy, List<Drive> drives, List<Drive> replacements, FailureModel model,
      FailureDataset test, Options o, Thresholds thresholds, PgBinaries bin, PrintStream progress) throws Exception {
    long wallStart = System.nanoTime();
    double loadAtStart = MachineLoad.oneMinute();
    Path root = Files.createTempDirectory("penumbra-failover-bench-");
    new ProcessBuilder("chmod", "755", root.toString()).start().waitFor();
    Ledger ledger = Ledger.inMemory(Clock.systemUTC());
    Resources standby = Resources.of(250, 256L << 20);
    // Room for a standby per node and for the promoted ones that became primaries.
    ledger.addNode("standby-pool", standby.scale(2 * drives.size()));
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> threads = new ArrayList<>();
    int budget = switch (policy) {
      case "none" -> 0;
      case "always" -> drives.size();
      default -> o.budget();
    };
    try (PgNodeDriver driver = new PgNodeDriver(bin, root.resolve("nodes"), root.resolve("archive"),
        o.warmConnections());
        TimedDriver timed = new TimedDriver(driver);
        Allocator allocator = Allocator.builder(ledger).lease(Duration.ofDays(1)).build();
        ShadowNodeManager manager = ShadowNodeManager.builder(timed, allocator, ledger).budget(budget)
            .thresholds(thresholds).standbyAmount(standby)
            .reprovisionAfterMove(policy.equals("penumbra-reprovision")).build()) {
      WorkloadOrchestrator orchestrator = new WorkloadOrchestrator(manager, 2);
      FailurePredictionEngine fpe = new FailurePredictionEngine(model);
      List<String> names = new ArrayList<>();
      Map<String, Writer> writers = new LinkedHashMap<>();
      for (int i = 0; i < drives.size(); i++) {
        String name = "n" + i;
        names.add(name);
        Endpoint e = driver.createNode(name);
        try (Connection c = e.connect(); Statement st = c.createStatement()) {
          st.execute("CREATE TABLE acked (id bigint PRIMARY KEY)");
        }
        manager.register(name);
        writers.put(name, new Writer(e, o.commitsPerSecond(), stop));
      }
      if (policy.equals("always")) {
        for (String n : names) {
          manager.pin(n);
        }
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (manager.statuses().stream().anyMatch(s -> s.standby() != StandbyState.READY)) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("standbys not ready after 180 s: " + manager.statuses());
          }
          // PostgreSQL standbys report readiness only when asked: the bench asks ten times a second, bounded.
          Thread.sleep(100);
        }
      }
      // The nodes ran before the replay: their telemetry of the last days before it is known.
      for (int i = 0; i < drives.size(); i++) {
        for (SmartRecord r : drives.get(i).prior()) {
          fpe.observe(names.get(i), r);
        }
      }
      progress.printf("policy %s: nodes up, writers and replay starting%n", policy);
      for (Map.Entry<String, Writer> w : writers.entrySet()) {
        threads.add(Thread.ofPlatform().name("writer-" + w.getKey()).start(w.getValue()));
      }
      threads.add(Thread.ofPlatform().daemon().name("health").start(() -> {
        while (!stop.get()) {
          orchestrator.checkHealth();
          LockSupport.parkNanos(100_000_000L);
        }
      }));
      long replayStart = System.nanoTime();
      Map<String, Long> killedAt = new HashMap<>();
      Map<String, Instant> killedInstant = new HashMap<>();
      Map<String, Double> maxRisk = new HashMap<>();
      Map<String, List<RiskPoint>> risks = new HashMap<>();
      TreeSet<LocalDate> days = new TreeSet<>();
      test.rows().forEach(r -> days.add(r.record().date()));
      long dayNanos = (long) (o.secondsPerDay() * 1e9);
      int dayIndex = 0;
      // After its first move a node runs on other hardware: from then on it replays its replacement drive.
      Set<String> replaced = new HashSet<>();
      Map<String, Long> firstObservationAfterMove = new HashMap<>();
      boolean actsOnRisk = policy.startsWith("penumbra");
      for (LocalDate day : days) {
        long dayStart = replayStart + dayIndex * dayNanos;
        sleepUntil(dayStart);
        for (int i = 0; i < drives.size(); i++) {
          String node = names.get(i);
          boolean moved = manager.status(node).moves() > 0;
          if (killedAt.containsKey(node) && !moved) {
            continue;
          }
          List<SmartRecord> history = drives.get(i).history();
          if (moved && i < replacements.size()) {
            Drive r = replacements.get(i);
            if (replaced.add(node)) {
              fpe.forget(node);
              List<SmartRecord> past = new ArrayList<>(r.prior());
              r.history().stream().filter(x -> x.date().isBefore(day)).forEach(past::add);
              past.subList(Math.max(0, past.size() - FailureFeatures.DELTA_DAYS), past.size())
                  .forEach(x -> fpe.observe(node, x));
            }
            history = r.history();
          } else if (moved) {
            continue;
          }
          for (SmartRecord r : history) {
            if (r.date().equals(day)) {
              double risk = fpe.observe(node, r);
              maxRisk.merge(node, risk, Math::max);
              // Only penumbra acts on risk; none and always (Patroni-style) act on detected failures only.
              if (actsOnRisk) {
                manager.observe(node, risk);
              }
              if (moved) {
                firstObservationAfterMove.putIfAbsent(node, System.nanoTime());
              }
              risks.computeIfAbsent(node, k -> new ArrayList<>()).add(new RiskPoint(day, risk,
                  manager.status(node).standby()));
            }
          }
        }
        // The snapshot is the day's start; a drive that fails that day fails mid-day.
        sleepUntil(dayStart + dayNanos / 2);
        for (int i = 0; i < drives.size(); i++) {
          String node = names.get(i);
          Drive d = drives.get(i);
          if (day.equals(d.failsOn()) && !killedAt.containsKey(node)) {
            killedAt.put(node, System.nanoTime());
            killedInstant.put(node, Instant.now());
            // The drive under the node's first machine fails; if the work moved already, it hits nothing live.
            if (manager.status(node).moves() == 0) {
              driver.crashPrimary(node);
              progress.printf("policy %s: day %s, drive %s failed: killed node %s's postmaster%n", policy, day,
                  d.serial(), node);
            } else {
              progress.printf("policy %s: day %s, drive %s failed after node %s had moved off it%n", policy, day,
                  d.serial(), node);
            }
          }
        }
        dayIndex++;
      }
      sleepUntil(replayStart + dayIndex * dayNanos);
      // Let detection and replacement finish (bounded).
      long tailDeadline = System.nanoTime() + 120_000_000_000L;
      while (System.nanoTime() < tailDeadline && killedAt.keySet().stream().anyMatch(n ->
          manager.status(n).moves() == 0 || !driver.healthy(n))) {
        // Detection and replacement run on the orchestrator's own beat; nothing signals the bench, so it looks again.
        Thread.sleep(100);
      }
      // Lets the last moves' timeline samples land before the run is scored.
      Thread.sleep(1000);
      long end = System.nanoTime();
      stop.set(true);
      for (Thread t : threads) {
        t.join(10_000);
      }
      List<NodeResult> nodes = new ArrayList<>();
      for (int i = 0; i < drives.size(); i++) {
        String node = names.get(i);
        Drive d = drives.get(i);
        Writer w = writers.get(node);
        Set<Long> present = new HashSet<>(ids(driver.endpoint(node)));
        long lost = w.acked.stream().filter(id -> !present.contains(id)).count();
        List<FailoverEvent> moves = orchestrator.events().stream().filter(e -> e.node().equals(node)).toList();
        double downtime = Double.NaN;
        double detection = Double.NaN;
        List<Endpoint.Switch> switches = driver.endpoint(node).switches();
        if (killedAt.containsKey(node) || !moves.isEmpty()) {
          long from = killedAt.getOrDefault(node, Long.MAX_VALUE);
          if (!switches.isEmpty()) {
            from = Math.min(from, switches.get(0).heldAtNanos());
          }
          if (from != Long.MAX_VALUE) {
            // The outage the failure or the move caused: from the writer's last acknowledged commit before it
            // (the kill or the hold of the clients, whichever came first) to its first one on the new primary.
            long lastAck = Math.max(replayStart, w.lastAckBefore(from));
            long back = switches.isEmpty() ? end : Math.min(end, w.firstAckAfter(switches.get(0).redirectedAtNanos()));
            downtime = (back - lastAck) / 1e9;
          }
        }
        long[] stall = w.gap(replayStart, end);
        if (killedInstant.containsKey(node)) {
          for (FailoverEvent e : moves) {
            if (e.cause() == FailoverEvent.Cause.DETECTED) {
              detection = Duration.between(killedInstant.get(node), e.started()).toMillis() / 1000.0;
            }
          }
        }
        MoveTimeline timeline = null;
        if (!switches.isEmpty()) {
          Endpoint.Switch sw = switches.get(0);
          long lastAck = w.lastAckBefore(sw.heldAtNanos());
          long firstAck = w.firstAckAfter(sw.redirectedAtNanos());
          timeline = new MoveTimeline(lastAck == Long.MIN_VALUE ? Double.NaN : (sw.heldAtNanos() - lastAck) / 1e6,
              (sw.redirectedAtNanos() - sw.heldAtNanos()) / 1e6,
              firstAck == Long.MAX_VALUE ? Double.NaN : (firstAck - sw.redirectedAtNanos()) / 1e6,
              sw.warmConnections(), (stall[0] - sw.heldAtNanos()) / 1e6);
        }
        NodeStatus s = manager.status(node);
        // After the first move: the standby time it cost, and how long the node ran at risk (its risk at the move
        // at or above the provision threshold) with no standby, until one was ready or a new observation came.
        long moveEnd = timed.firstMoveEnd(node);
        double after = Double.NaN;
        double exposed = Double.NaN;
        if (moveEnd != Long.MAX_VALUE && !moves.isEmpty()) {
          after = timed.standbySecondsAfter(node, moveEnd, end);
          boolean atRisk = moves.get(0).risk() >= thresholds.provision() && actsOnRisk;
          long covered = Math.min(Math.min(timed.firstReadyAfter(node, moveEnd),
              firstObservationAfterMove.getOrDefault(node, Long.MAX_VALUE)), end);
          exposed = atRisk ? Math.max(0, covered - moveEnd) / 1e9 : 0;
        }
        nodes.add(new NodeResult(node, d.serial(), d.why(), d.failsOn(), maxRisk.getOrDefault(node, 0.0),
            killedAt.containsKey(node), moves, w.acked.size(), lost, downtime, detection,
            s.standbyTime().toMillis() / 1000.0, s.standbysProvisioned(),
            List.copyOf(risks.getOrDefault(node, List.of())), timeline, (stall[1] - stall[0]) / 1e9, after,
            exposed));
      }
      return summarize(policy, nodes, o, (System.nanoTime() - wallStart) / 1e9, loadAtStart, MachineLoad.oneMinute());
    } finally {
      stop.set(true);
      for (Thread t : threads) {
        t.join(10_000);
      }
      deleteTree(root);
    }
  }


  static PolicyResult summarize(String policy, List<NodeResult> nodes, Options o, double wall, double loadAtStart,
      double loadAtEnd) {
    List<Double> downtimes = new ArrayList<>();
    long acked = 0;
    long lost = 0;
    double standbySeconds = 0;
    int healthyStandbys = 0;
    int movedBeforeKill = 0;
    int failures = 0;
    for (NodeResult n : nodes) {
      acked += n.acknowledged();
      lost += n.lost();
      standbySeconds += n.standbySeconds();
      if (n.failsOn() == null) {
        healthyStandbys += n.standbysProvisioned();
      }
      if (n.killed() || !n.moves().isEmpty()) {
        failures++;
        downtimes.add(n.downtimeSeconds());
      }
      if (!n.moves().isEmpty() && n.moves().get(0).cause() == FailoverEvent.Cause.PLANNED && n.failsOn() != null) {
        movedBeforeKill++;
      }
    }
    double[] d = downtimes.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    double p50 = d.length == 0 ? Double.NaN : d.length % 2 == 1 ? d[d.length / 2] : (d[d.length / 2 - 1]
        + d[d.length / 2]) / 2;
    double max = d.length == 0 ? Double.NaN : Arrays.stream(d).max().getAsDouble();
    double after = nodes.stream().mapToDouble(NodeResult::standbySecondsAfterMove).filter(x -> !Double.isNaN(x))
        .sum();
    double exposed = nodes.stream().mapToDouble(NodeResult::exposedSecondsAfterMove).filter(x -> !Double.isNaN(x))
        .sum();
    return new PolicyResult(policy, nodes, failures, p50, max, acked, lost, standbySeconds / o.secondsPerDay(),
        healthyStandbys, movedBeforeKill, wall, loadAtStart, loadAtEnd,
        nodes.stream().mapToDouble(NodeResult::longestStallSeconds).max().orElse(Double.NaN),
        after / o.secondsPerDay(), exposed);
  }

  static List<Long> ids(Endpoint e) throws SQLException {
    List<Long> out = new ArrayList<>();
    SQLException last = null;
    // The node may just have been redirected; a few tries, bounded.
    for (int attempt = 0; attempt < 50; attempt++) {
      try (Connection c = e.connect(); Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT id FROM acked")) {
        while (rs.next()) {
          out.add(rs.getLong(1));
        }
        return out;
      } catch (SQLException ex) {
        last = ex;
        LockSupport.parkNanos(200_000_000L);
      }
    }
    throw last;
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    long wait;
    while ((wait = nanos - System.nanoTime()) > 0) {
      // Pacing the replay to its wall-clock schedule, not a wait for a condition.
      Thread.sleep(Math.max(1, wait / 1_000_000));
    }
  }

  private static void deleteTree(Path p) {
    try {
      new ProcessBuilder("rm", "-rf", p.toString()).start().waitFor();
    } catch (IOException e) {
      // Best effort.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
