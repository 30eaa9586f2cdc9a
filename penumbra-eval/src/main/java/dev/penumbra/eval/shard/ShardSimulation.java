package dev.penumbra.eval.shard;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Allocator;
import dev.penumbra.core.allocate.Placement;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.allocate.Ticket;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.predict.Features;
import dev.penumbra.eval.report.Quantiles;
import dev.penumbra.shard.Attempt;
import dev.penumbra.shard.AttemptResult;
import dev.penumbra.shard.EngineStats;
import dev.penumbra.shard.KeyRange;
import dev.penumbra.shard.RequestResult;
import dev.penumbra.shard.Shard;
import dev.penumbra.shard.ShardEngine;
import dev.penumbra.shard.ShardHistory;
import dev.penumbra.shard.ShardPolicy;
import dev.penumbra.shard.ShardProfile;
import dev.penumbra.shard.ShardReport;
import dev.penumbra.shard.ShardRequest;
import dev.penumbra.shard.Subset;
import dev.penumbra.shard.Unit;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One run of one sharding policy over the scored jobs at one load level, in simulated time, against backends of
 * fixed capacity registered in a ledger. Every policy reserves each shard through the core {@link Allocator} on the
 * same backends; Penumbra's is the product's {@link ShardEngine}, the others are the systems users would pick:
 *
 * <ul>
 *   <li>{@code no-sharding}: the whole job as one task on one core.
 *   <li>{@code uniform}: the job's instances cut into N equal shards, each on one core (a Ray task with a fixed
 *       {@code num_cpus=1}).
 *   <li>{@code reactive}: uniform, and a running shard observed at more than 5x the median duration of the job's
 *       finished shards has its remaining keys split into pieces run on their own cores (Spark AQE skew splitting).
 *   <li>{@code penumbra}: the engine's PREDICTED policy: shards cut to last about the tuned target by predicted cost
 *       from the history (at most maxShards per job), reservations sized by the predictor, the sweeper's timeouts
 *       and backups.
 *   <li>{@code oracle}: PREDICTED with the true costs and the exact CPU each task requests; bounds what shaping can
 *       reach.
 * </ul>
 *
 * <p>Failures: the first attempt covering a Failed task's first instance fails half-way; optionally one backend is
 * killed half-way through the arrivals (it never reports again). Baselines learn of the death at once (as a
 * cluster manager's heartbeat would tell them); Penumbra's sweeper on its next tick, a heartbeat later.
 *
 * <p>About 530 lines: the five policies share one event loop, one ledger and one failure schedule, so that each
 * is judged on the same simulated time; the policies' own rules are the small branches inside it.
 */
final class ShardSimulation {

  static final List<String> POLICIES = List.of("no-sharding", "uniform", "reactive", "penumbra", "oracle");
  static final String TYPE = "alibaba-batch";
  /** How long after a backend dies the sweeper notices (its heartbeat). */
  static final long HEARTBEAT_MS = 5_000;
  static final double REACTIVE_SKEW = 5.0;

  /**
   * What a run needs.
   *
   * @param jobs the scored jobs with compressed arrivals
   * @param backends how many backends
   * @param coresPerBackend cores each
   * @param shards N: shards per job of uniform and reactive
   * @param maxShards the most shards penumbra and the oracle cut a job into
   * @param window the most shards of one job penumbra and the oracle reserve or run at once
   * @param targetShard penumbra's shortest shard
   * @param history profiles the history starts from (the trace's earlier part)
   * @param killAtMillis when backend 0 dies, or -1
   * @param maxEvents bound on simulated events
   */
  record Setup(List<BatchTrace.Job> jobs, List<Long> arrivals, int backends, int coresPerBackend, int shards,
      int maxShards, int window, Duration targetShard, List<ShardProfile> history, long killAtMillis, long maxEvents) {}

  /** One policy's figures at one load level. */
  record Result(String policy, double load, int requests, int completed, int failedRequests, double p50Seconds,
      double p99Seconds, double meanSeconds, double stragglerMedian, double stragglerP90, double reservedCoreSeconds,
      double usedCoreSeconds, double queueMeanSeconds, long shards, long retries, long injectedFailures,
      long lostAttempts, long timeouts, long splits, long duplicatesDropped, long keysLost, long keysDuplicated,
      long events, boolean complete, double wallSeconds) {}

  private final Setup setup;
  private final String policy;
  private final double load;
  private final EventLoop loop = new EventLoop();
  private final Ledger ledger = Ledger.inMemory(loop.clock);
  private final Map<String, SimBackend> backends = new LinkedHashMap<>();
  private final Map<String, SimJob> jobs = new LinkedHashMap<>();
  private long injected;
  private long lostAttempts;
  private long retries;
  private long splits;
  private long shardCount;
  private double reservedMcMs;
  private double usedMcMs;
  private double queuedMs;
  private long grants;

  ShardSimulation(Setup setup, String policy, double load) {
    if (!POLICIES.contains(policy)) {
      throw new IllegalArgumentException("policy '" + policy + "' is not one of " + POLICIES);
    }
    this.setup = setup;
    this.policy = policy;
    this.load = load;
    for (int i = 0; i < setup.backends(); i++) {
      String id = "backend-" + i;
      backends.put(id, new SimBackend(id, Resources.cpu(setup.coresPerBackend() * 1000L), loop, this::model));
    }
  }

  private SimBackend.Run model(Attempt a) {
    SimJob job = jobs.get(a.shard().requestId());
    KeyRange range = a.shard().subset().range();
    double[] c = job.cost(range, a.reserved().cpuMillis());
    long ms = Math.max(1, Math.round(c[0]));
    long fail = -1;
    if (job.takeFailure(range)) {
      injected++;
      fail = ms / 2;
    }
    return new SimBackend.Run(ms, Math.max(1, Math.round(c[1] / ms)), fail);
  }

  Result run() throws SQLException {
    long t0 = System.nanoTime();
    for (int i = 0; i < setup.jobs().size(); i++) {
      BatchTrace.Job j = setup.jobs().get(i);
      SimJob sj = new SimJob(j, setup.arrivals().get(i));
      jobs.put(sj.id, sj);
    }
    boolean complete;
    if (policy.equals("penumbra")) {
      complete = runPenumbra();
    } else {
      complete = runBaseline();
    }
    return result(complete, (System.nanoTime() - t0) / 1e9);
  }

  // ---------------------------------------------------------------- penumbra: the product engine

  private EngineStats engineStats;
  private Long scheduledTick;

  private boolean runPenumbra() throws SQLException {
    try (ShardHistory history = ShardHistory.inMemory(1000)) {
      history.record(setup.history());
      ShardEngine.Builder b = ShardEngine.builder(ledger, history).clock(loop.clock)
          .targetShard(setup.targetShard()).lease(Duration.ofDays(3650)).defaultDemand(Resources.cpu(1000))
          .maxInFlight(setup.window()).minTimeout(Duration.ofSeconds(1))
          .timeoutFactor(2).maxAttempts(8).backoff(Duration.ofMillis(100)).cooldown(Duration.ofSeconds(30));
      backends.values().forEach(b::backend);
      ShardEngine engine = b.build();
      try {
        for (SimJob j : jobs.values()) {
          loop.at(j.arrivalMillis, () -> submit(engine, j));
        }
        if (setup.killAtMillis() >= 0) {
          loop.at(setup.killAtMillis(), () -> backends.get("backend-0").kill());
          loop.at(setup.killAtMillis() + HEARTBEAT_MS, engine::tick);
        }
        loop.afterEach(() -> {
          engine.nextWakeup().ifPresent(w -> {
            long at = w.toEpochMilli();
            if (scheduledTick == null || at < scheduledTick) {
              scheduledTick = at;
              loop.at(at, () -> {
                scheduledTick = null;
                engine.tick();
              });
            }
          });
        });
        boolean complete = loop.run(setup.maxEvents());
        engineStats = engine.stats();
        return complete;
      } finally {
        engine.close();
      }
    }
  }

  private void submit(ShardEngine engine, SimJob j) {
    List<Unit> units = new ArrayList<>();
    for (int i = 0; i < j.job.tasks().size(); i++) {
      BatchTrace.Task t = j.job.tasks().get(i);
      units.add(new Unit("t" + i, "cpu" + t.cpuPercent(), j.unitKeys(i), List.of(),
          Features.of("cpu_percent", t.cpuPercent(), "memory", t.memory())));
    }
    ShardRequest req = new ShardRequest(j.id, TYPE, Priority.STANDARD, units);
    engine.submit(req, ShardPolicy.PREDICTED, setup.maxShards()).whenComplete((r, ex) -> {
      if (ex != null) {
        j.failed = true;
        return;
      }
      finishPenumbra(j, r);
    });
  }

  private void finishPenumbra(SimJob j, RequestResult r) {
    j.finishedAt = loop.now();
    for (ShardReport s : r.shards()) {
      j.keysDone += (Long) s.value();
      j.runs.add(s.ranMillis());
    }
  }

  // ---------------------------------------------------------------- baselines and the oracle

  private Allocator allocator;
  // Insertion-ordered: the kill and the skew check walk it, and identity hashes would make the run differ each time.
  private final Set<Piece> running = new LinkedHashSet<>();

  private final class Piece {
    final SimJob job;
    final KeyRange range;
    final long cpu;
    final int index;
    int attempts;
    long requestedAt;
    long grantedAt;
    Reservation reservation;
    SimBackend backend;
    String attemptId;
    long checkAt = Long.MAX_VALUE;

    Piece(SimJob job, KeyRange range, long cpu, int index) {
      this.job = job;
      this.range = range;
      this.cpu = cpu;
      this.index = index;
    }
  }

  private final Map<String, Integer> outstanding = new HashMap<>();
  private final Map<String, Integer> inFlight = new HashMap<>();
  private final Map<String, java.util.ArrayDeque<Piece>> backlog = new HashMap<>();
  private final Map<String, Integer> pieceIds = new HashMap<>();

  private boolean runBaseline() {
    allocator = Allocator.builder(ledger).clock(loop.clock).preemption(false).lease(Duration.ofDays(3650))
        .placement((amount, nodes) -> Placement.bestFit().choose(amount,
            nodes.stream().filter(n -> backends.get(n.id()).alive()).toList()))
        .build();
    for (SimBackend be : backends.values()) {
      ledger.addNode(be.id(), be.capacity());
    }
    for (SimJob j : jobs.values()) {
      loop.at(j.arrivalMillis, () -> arrive(j));
    }
    if (setup.killAtMillis() >= 0) {
      loop.at(setup.killAtMillis(), () -> {
        SimBackend dead = backends.get("backend-0");
        dead.kill();
        for (Piece p : new ArrayList<>(running)) {
          if (p.backend == dead) {
            lostAttempts++;
            end(p);
            retries++;
            request(p);
          }
        }
      });
    }
    boolean complete = loop.run(setup.maxEvents());
    allocator.close();
    return complete;
  }

  private void arrive(SimJob j) {
    List<Piece> pieces = new ArrayList<>();
    switch (policy) {
      case "no-sharding" -> pieces.add(new Piece(j, KeyRange.of(0, j.keys), 1000, 0));
      case "uniform", "reactive" -> {
        for (KeyRange r : equal(KeyRange.of(0, j.keys), (int) Math.min(setup.shards(), j.keys))) {
          pieces.add(new Piece(j, r, 1000, pieces.size()));
        }
      }
      case "oracle" -> {
        // The engine's PREDICTED rule with the true costs.
        double total = j.cost(KeyRange.of(0, j.keys), Long.MAX_VALUE)[0];
        double[] costs = new double[j.job.tasks().size()];
        for (int i = 0; i < costs.length; i++) {
          costs[i] = j.cost(j.unitKeys(i), Long.MAX_VALUE)[0];
        }
        java.util.Arrays.sort(costs);
        double target = Math.max(total / setup.maxShards(), Math.min(setup.targetShard().toMillis(),
            costs[(costs.length - 1) / 2]));
        for (int i = 0; i < j.job.tasks().size(); i++) {
          KeyRange u = j.unitKeys(i);
          double cost = j.cost(u, Long.MAX_VALUE)[0];
          int k = (int) Math.max(1, Math.min(u.size(), Math.ceil(cost / target)));
          for (KeyRange r : equal(u, k)) {
            pieces.add(new Piece(j, r, j.job.tasks().get(i).cpuPercent() * 10L, pieces.size()));
          }
        }
      }
      default -> throw new IllegalStateException(policy);
    }
    outstanding.put(j.id, pieces.size());
    pieceIds.put(j.id, pieces.size());
    shardCount += pieces.size();
    int window = policy.equals("oracle") ? setup.window() : Integer.MAX_VALUE;
    java.util.ArrayDeque<Piece> waiting = new java.util.ArrayDeque<>();
    for (Piece p : pieces) {
      if (inFlight.merge(j.id, 1, Integer::sum) <= window) {
        request(p);
      } else {
        inFlight.merge(j.id, -1, Integer::sum);
        waiting.add(p);
      }
    }
    backlog.put(j.id, waiting);
  }

  static List<KeyRange> equal(KeyRange keys, int k) {
    List<KeyRange> out = new ArrayList<>(k);
    long n = keys.size();
    long prev = keys.from();
    for (int i = 1; i <= k; i++) {
      long end = keys.from() + (n / k) * i + Math.min(i, n % k);
      out.add(KeyRange.of(prev, end));
      prev = end;
    }
    return out;
  }

  private void request(Piece p) {
    p.attempts++;
    p.requestedAt = loop.now();
    String owner = p.job.id + "/" + p.index + "#" + p.attempts;
    Ticket t = allocator.request(owner, Resources.cpu(p.cpu), Sla.of(Priority.STANDARD));
    t.future().thenAccept(r -> start(p, r, owner));
  }

  private void start(Piece p, Reservation r, String owner) {
    SimBackend be = backends.get(r.node());
    p.reservation = ledger.activate(r.id());
    p.backend = be;
    p.grantedAt = loop.now();
    p.attemptId = owner;
    queuedMs += p.grantedAt - p.requestedAt;
    grants++;
    running.add(p);
    Shard shard = new Shard(p.job.id + "/all/" + p.index, p.job.id, "all", "all", Subset.of(p.range), Set.of(),
        Priority.STANDARD);
    Attempt a = new Attempt(owner, shard, p.attempts, r.id(), r.amount(), Duration.ofDays(3650));
    be.submit(a, res -> finished(p, res));
    if (policy.equals("reactive")) {
      scheduleCheck(p);
    }
  }

  private void end(Piece p) {
    running.remove(p);
    Reservation last = ledger.release(p.reservation.id());
    reservedMcMs += (double) last.amount().cpuMillis() * (loop.now() - p.grantedAt);
  }

  private void finished(Piece p, AttemptResult res) {
    if (!running.contains(p) || !res.attemptId().equals(p.attemptId)) {
      return;
    }
    end(p);
    usedMcMs += res.used().cpuMillis() * (double) res.ran().toMillis();
    if (!res.succeeded()) {
      retries++;
      request(p);
      return;
    }
    pieceDone(p, p.range.size(), res.ran().toMillis());
  }

  private void pieceDone(Piece p, long keys, double ranMs) {
    SimJob j = p.job;
    j.keysDone += keys;
    j.runs.add(ranMs);
    inFlight.merge(j.id, -1, Integer::sum);
    java.util.ArrayDeque<Piece> waiting = backlog.get(j.id);
    if (waiting != null && !waiting.isEmpty()) {
      inFlight.merge(j.id, 1, Integer::sum);
      request(waiting.poll());
    }
    int left = outstanding.merge(j.id, -1, Integer::sum);
    if (left == 0) {
      j.finishedAt = loop.now();
    } else if (policy.equals("reactive")) {
      for (Piece q : running) {
        if (q.job == j) {
          scheduleCheck(q);
        }
      }
    }
  }

  private double median(List<Double> xs) {
    double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return a.length == 0 ? Double.NaN : a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  }

  private void scheduleCheck(Piece p) {
    double m = median(p.job.runs);
    if (Double.isNaN(m)) {
      return;
    }
    long at = p.grantedAt + (long) Math.ceil(REACTIVE_SKEW * m) + 1;
    if (at < p.checkAt) {
      p.checkAt = at;
      String attempt = p.attemptId;
      loop.at(at, () -> check(p, attempt));
    }
  }

  private void check(Piece p, String attempt) {
    if (!running.contains(p) || !attempt.equals(p.attemptId)) {
      return;
    }
    p.checkAt = Long.MAX_VALUE;
    double m = median(p.job.runs);
    double elapsed = loop.now() - p.grantedAt;
    if (!(elapsed > REACTIVE_SKEW * m)) {
      scheduleCheck(p);
      return;
    }
    long done = p.job.keysDoneAfter(p.range, p.cpu, elapsed);
    long left = p.range.size() - done;
    if (left < 2) {
      return;
    }
    KeyRange rest = KeyRange.of(p.range.from() + done, p.range.to());
    double restMs = p.job.cost(rest, p.cpu)[0];
    int k = (int) Math.max(2, Math.min(Math.min(setup.shards(), left), Math.ceil(restMs / Math.max(1, m))));
    p.backend.cancel(p.attemptId);
    end(p);
    double[] partial = done > 0 ? p.job.cost(KeyRange.of(p.range.from(), p.range.from() + done), p.cpu) : new double[2];
    usedMcMs += partial[1];
    splits++;
    outstanding.merge(p.job.id, k, Integer::sum);
    int next = pieceIds.merge(p.job.id, k, Integer::sum) - k;
    shardCount += k;
    List<Piece> pieces = new ArrayList<>();
    for (KeyRange r : equal(rest, k)) {
      pieces.add(new Piece(p.job, r, p.cpu, next++));
    }
    // The cut piece counts as one finished shard with the keys it did.
    pieceDone(p, done, elapsed);
    for (Piece q : pieces) {
      inFlight.merge(q.job.id, 1, Integer::sum);
      request(q);
    }
  }

  // ---------------------------------------------------------------- figures

  private Result result(boolean complete, double wall) {
    List<Double> latencies = new ArrayList<>();
    List<Double> stragglers = new ArrayList<>();
    int completed = 0;
    int failed = 0;
    long keysLost = 0;
    long keysDup = 0;
    for (SimJob j : jobs.values()) {
      if (j.finishedAt >= 0) {
        completed++;
        latencies.add((j.finishedAt - j.arrivalMillis) / 1000.0);
        if (j.keysDone < j.keys) {
          keysLost += j.keys - j.keysDone;
        } else {
          keysDup += j.keysDone - j.keys;
        }
        if (j.runs.size() >= 2) {
          double m = median(j.runs);
          double max = j.runs.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
          stragglers.add(m <= 0 ? 1 : max / m);
        }
      } else {
        if (j.failed) {
          failed++;
        }
        keysLost += j.keys;
      }
    }
    double[] lat = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    double[] str = stragglers.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    double reserved;
    double used;
    double queued;
    long shards;
    long retried;
    long lost;
    long timeouts = 0;
    long dups = 0;
    if (engineStats != null) {
      reserved = engineStats.reservedCpuMilliSeconds() / 1000;
      used = engineStats.usedCpuMilliSeconds() / 1000;
      queued = engineStats.attempts() == 0 ? 0 : engineStats.queuedMillis() / engineStats.attempts() / 1000;
      shards = engineStats.shards();
      retried = engineStats.retries();
      lost = engineStats.lost();
      timeouts = engineStats.timeouts();
      dups = engineStats.duplicates();
    } else {
      reserved = reservedMcMs / 1000 / 1000;
      used = usedMcMs / 1000 / 1000;
      queued = grants == 0 ? 0 : queuedMs / grants / 1000;
      shards = shardCount;
      retried = retries;
      lost = lostAttempts;
    }
    return new Result(policy, load, jobs.size(), completed, failed, Quantiles.of(lat, 0.5), Quantiles.of(lat, 0.99),
        lat.length == 0 ? Double.NaN : java.util.Arrays.stream(lat).average().orElseThrow(), Quantiles.of(str, 0.5),
        Quantiles.of(str, 0.9), reserved, used, queued, shards, retried, injected, lost, timeouts, splits, dups, keysLost,
        keysDup, loop.events(), complete, wall);
  }

}
