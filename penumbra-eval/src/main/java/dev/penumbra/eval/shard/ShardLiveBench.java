package dev.penumbra.eval.shard;

import dev.penumbra.core.Demand;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.feedback.ErrorStats;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.predict.Features;
import dev.penumbra.core.predict.Predictor;
import dev.penumbra.eval.report.Quantiles;
import dev.penumbra.shard.Backend;
import dev.penumbra.shard.EngineStats;
import dev.penumbra.shard.InProcessBackend;
import dev.penumbra.shard.KeyRange;
import dev.penumbra.shard.RequestResult;
import dev.penumbra.shard.ShardEngine;
import dev.penumbra.shard.ShardFunctions;
import dev.penumbra.shard.ShardHistory;
import dev.penumbra.shard.ShardPolicy;
import dev.penumbra.shard.ShardReport;
import dev.penumbra.shard.ShardRequest;
import dev.penumbra.shard.Unit;
import dev.penumbra.shard.kafka.KafkaShardTransport;
import dev.penumbra.shard.kafka.ShardWorkerProcess;
import dev.penumbra.server.Json;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * Sharding in real time on real backends: seeded synthetic jobs (units of {@code key-sum} keys, lognormal sizes, so a
 * job's units differ by up to 500x) submitted at Poisson arrivals to the product's {@link ShardEngine}, once cut
 * uniformly (N key ranges per unit, each reserved at one core: uniform static) and once by Penumbra ({@code
 * predicted} cuts, reservations from the predictor), on in-process backends and, given a Kafka broker, on Kafka pools
 * whose workers are separate processes. Reports job latency p50/p99, straggler ratio, reserved and used core-seconds
 * and keys lost or counted twice, per transport, load and policy. Penumbra's history is warmed on jobs of another
 * seed; no constant is tuned on the scored jobs.
 */
public final class ShardLiveBench {

  /**
   * @param bootstrap a Kafka broker (loopback) to run the Kafka transport too; null: in-process only
   * @param loads offered core-seconds over the pools' worker slots x the arrival span, each in (0, 4]
   * @param jobs scored jobs per run
   * @param pools backends (pools)
   * @param workers worker slots per pool (in-process threads; Kafka worker processes)
   * @param shards uniform's shards per unit; Penumbra's budget per job is this x its units
   * @param keyMicros CPU time per key
   * @param seed the scored jobs' seed (the warm-up uses seed + 1)
   */
  public record Options(String bootstrap, List<Double> loads, int jobs, int pools, int workers, int shards,
      long keyMicros, long seed) {
    public Options {
      if (bootstrap != null && bootstrap.isBlank()) {
        throw new IllegalArgumentException("--bootstrap must not be blank");
      }
      if (loads == null || loads.isEmpty()) {
        throw new IllegalArgumentException("--loads must name at least one load");
      }
      for (double l : loads) {
        if (!(l > 0 && l <= 4)) {
          throw new IllegalArgumentException("--loads: each load must be in (0, 4], was " + l);
        }
      }
      loads = List.copyOf(loads);
      check("--jobs", jobs, 1, 10_000);
      check("--pools", pools, 1, 16);
      check("--workers", workers, 1, 16);
      check("--shards", shards, 1, 64);
      check("--key-micros", keyMicros, 1, 100_000);
    }

    private static void check(String name, long v, long min, long max) {
      if (v < min || v > max) {
        throw new IllegalArgumentException(name + " must be in [" + min + ", " + max + "], was " + v);
      }
    }
  }

  /** One policy at one load on one transport. */
  public record Row(String transport, double load, String policy, int jobs, int failed, double p50Millis,
      double p99Millis, double stragglerP50, double reservedCoreSeconds, double usedCoreSeconds, long shards,
      long retries, long lost, long duplicates, long jobsWrong, double wallSeconds) {}

  public record Report(Options options, List<Row> rows) {}

  static final String UNIFORM = "uniform";
  static final String PENUMBRA = "penumbra";
  private static final Duration RUN_LIMIT = Duration.ofMinutes(10);
  private static final Resources CORE = Resources.of(1000, 64L << 20);

  private ShardLiveBench() {}

  /** Synthetic jobs: 2-7 units each, unit keys lognormal around 150 (10 to 5,000). */
  static List<ShardRequest> jobs(int n, long seed, String prefix) {
    Random rnd = new Random(seed);
    List<ShardRequest> out = new ArrayList<>();
    for (int j = 0; j < n; j++) {
      int units = 2 + rnd.nextInt(6);
      List<Unit> us = new ArrayList<>();
      long from = 0;
      for (int u = 0; u < units; u++) {
        long keys = Math.max(10, Math.min(5_000, Math.round(Math.exp(Math.log(150) + 1.2 * rnd.nextGaussian()))));
        us.add(Unit.of("u" + u, ShardFunctions.KEY_SUM, KeyRange.of(from, from + keys)));
        from += keys;
      }
      out.add(new ShardRequest(prefix + j, "live", Priority.STANDARD, us));
    }
    return out;
  }

  public static Report run(Options o, PrintStream progress) throws Exception {
    List<Row> rows = new ArrayList<>();
    List<ShardRequest> warm = jobs(Math.max(10, o.jobs() / 2), o.seed() + 1, "warm-");
    List<ShardRequest> scored = jobs(o.jobs(), o.seed(), "job-");
    List<String> transports = new ArrayList<>(List.of("in-process"));
    if (o.bootstrap() != null) {
      transports.add("kafka");
    }
    for (String t : transports) {
      try (Pools pools = t.equals("kafka") ? Pools.kafka(o, progress) : Pools.inProcess(o)) {
        try (ShardHistory history = ShardHistory.inMemory(o.keyMicros() / 1000.0)) {
          progress.printf("shard-live %s: warming Penumbra's history on %d jobs of another seed%n", t, warm.size());
          runOnce(o, pools, PENUMBRA, history, warm, 0.5, t, progress);
          for (double load : o.loads()) {
            for (String policy : List.of(UNIFORM, PENUMBRA)) {
              try (ShardHistory own = policy.equals(UNIFORM) ? ShardHistory.inMemory(o.keyMicros() / 1000.0) : null) {
                Row r = runOnce(o, pools, policy, policy.equals(UNIFORM) ? own : history, scored, load, t, progress);
                rows.add(r);
                progress.printf(Locale.ROOT, "shard-live %s load %.2f %-8s p50 %.0f ms p99 %.0f ms reserved %.1f "
                    + "core-s used %.1f core-s (%.0f s)%n", t, load, policy, r.p50Millis(), r.p99Millis(),
                    r.reservedCoreSeconds(), r.usedCoreSeconds(), r.wallSeconds());
              }
            }
          }
        }
      }
    }
    return new Report(o, rows);
  }

  private static Row runOnce(Options o, Pools pools, String policy, ShardHistory history, List<ShardRequest> jobs,
      double load, String transport, PrintStream progress) throws Exception {
    Ledger ledger = Ledger.inMemory(Clock.systemUTC());
    ShardEngine.Builder b = ShardEngine.builder(ledger, history).targetShard(Duration.ofMillis(250))
        .defaultDemand(CORE).minTimeout(Duration.ofSeconds(5)).cooldown(Duration.ofSeconds(5));
    if (policy.equals(UNIFORM)) {
      b.predictors(f -> new Fixed(CORE));
    }
    pools.backends().forEach(b::backend);
    double workSeconds = 0;
    for (ShardRequest r : jobs) {
      workSeconds += r.keys() * o.keyMicros() / 1e6;
    }
    int slots = o.pools() * o.workers();
    double meanGap = workSeconds / jobs.size() / (slots * load);
    Random arrivals = new Random(o.seed() * 31 + Math.round(load * 1000));
    List<CompletableFuture<RequestResult>> futures = new ArrayList<>();
    long t0 = System.nanoTime();
    try (ShardEngine engine = b.build()) {
      double next = 0;
      int submitted = 0;
      long limit = t0 + RUN_LIMIT.toNanos();
      while (System.nanoTime() < limit) {
        double now = (System.nanoTime() - t0) / 1e9;
        while (submitted < jobs.size() && now >= next) {
          ShardRequest r = jobs.get(submitted++);
          int units = r.units().size();
          futures.add(policy.equals(UNIFORM) ? engine.submit(r, ShardPolicy.KEY_RANGE, o.shards())
              : engine.submit(r, ShardPolicy.PREDICTED, o.shards() * units));
          next += -Math.log(1 - arrivals.nextDouble()) * meanGap;
        }
        engine.tick();
        if (submitted == jobs.size() && futures.stream().allMatch(CompletableFuture::isDone)) {
          break;
        }
        // The engine is time-driven (deadlines, retries, arrivals): this loop is its clock, ticking every 5 ms.
        Thread.sleep(5);
      }
      engine.flush();
      double wall = (System.nanoTime() - t0) / 1e9;
      List<Double> lat = new ArrayList<>();
      List<Double> strag = new ArrayList<>();
      int failed = 0;
      long wrong = 0;
      for (int i = 0; i < futures.size(); i++) {
        CompletableFuture<RequestResult> f = futures.get(i);
        if (!f.isDone() || f.isCompletedExceptionally()) {
          failed++;
          continue;
        }
        RequestResult r = f.join();
        lat.add(r.latency().toNanos() / 1e6);
        strag.add(r.stragglerRatio());
        long sum = 0;
        long keys = 0;
        for (ShardReport s : r.shards()) {
          sum += ((Number) s.value()).longValue();
          keys += s.shard().keys();
        }
        ShardRequest req = jobs.get(i);
        long expected = 0;
        for (Unit u : req.units()) {
          expected += ShardFunctions.expectedSum(u.keys());
        }
        if (sum != expected || keys != req.keys()) {
          wrong++;
        }
      }
      failed += jobs.size() - futures.size();
      EngineStats st = engine.stats();
      double[] l = lat.stream().mapToDouble(Double::doubleValue).toArray();
      double[] s = strag.stream().mapToDouble(Double::doubleValue).toArray();
      return new Row(transport, load, policy, jobs.size(), failed, l.length == 0 ? Double.NaN : Quantiles.of(l, 0.5),
          l.length == 0 ? Double.NaN : Quantiles.of(l, 0.99), s.length == 0 ? Double.NaN : Quantiles.of(s, 0.5),
          st.reservedCpuMilliSeconds() / 1e3, st.usedCpuMilliSeconds() / 1e3, st.shards(), st.retries(), st.lost(),
          st.duplicates(), wrong, wall);
    }
  }

  /** Uniform static sizing: every shard reserved at the same fixed amount, whatever it is. */
  private record Fixed(Resources amount) implements Predictor {
    @Override
    public String name() {
      return "uniform-static";
    }

    @Override
    public Demand predict(Features features) {
      return Demand.exact(amount, name());
    }

    @Override
    public void learn(Features features, Resources actual) {
      // Static: learns nothing.
    }

    @Override
    public ErrorStats errors(Resources.Dimension dimension) {
      return ErrorStats.empty(name() + "/" + dimension.label());
    }
  }

  /** The backends of one transport, and what must be stopped with them. */
  private record Pools(List<Backend> backends, List<AutoCloseable> owned) implements AutoCloseable {
    static Pools inProcess(Options o) {
      List<Backend> bs = new ArrayList<>();
      List<AutoCloseable> owned = new ArrayList<>();
      for (int i = 0; i < o.pools(); i++) {
        InProcessBackend b = InProcessBackend.of("live-" + i, capacity(o), o.workers(),
            ShardFunctions.keySum(Duration.ofNanos(o.keyMicros() * 1000)));
        bs.add(b);
        owned.add(b);
      }
      return new Pools(bs, owned);
    }

    static Pools kafka(Options o, PrintStream progress) throws Exception {
      List<Backend> bs = new ArrayList<>();
      List<AutoCloseable> owned = new ArrayList<>();
      KafkaShardTransport transport = KafkaShardTransport.builder(o.bootstrap()).valueType(Long.class)
          .heartbeatTimeout(Duration.ofSeconds(5)).build();
      List<ShardWorkerProcess> procs = new ArrayList<>();
      Path logs = Files.createTempDirectory("penumbra-shard-live");
      // Topics outlive a run: pool ids of their own.
      String run = Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);
      try {
        for (int i = 0; i < o.pools(); i++) {
          String id = "live-" + run + "-" + i;
          bs.add(transport.backend(id, capacity(o), o.workers()));
          for (int w = 0; w < o.workers(); w++) {
            Map<String, String> opts = new LinkedHashMap<>();
            opts.put("worker", id + "-w" + w);
            opts.put("function", ShardFunctions.KEY_SUM);
            opts.put("key-micros", Long.toString(o.keyMicros()));
            procs.add(ShardWorkerProcess.start(o.bootstrap(), id, opts, logs.resolve(id + "-w" + w + ".log")));
          }
        }
        progress.printf("shard-live kafka: %d worker processes starting (logs in %s)%n", procs.size(), logs);
        long until = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (System.nanoTime() < until) {
          long ready = transport.workers().stream().filter(w -> w.alive() && !w.partitions().isEmpty()).count();
          if (ready == (long) o.pools() * o.workers()
              && transport.workers().stream().mapToInt(w -> w.partitions().size()).sum() == o.pools() * o.workers()) {
            break;
          }
          // The worker processes' heartbeats arrive over Kafka; the bench reads the transport's view, bounded.
          Thread.sleep(100);
        }
      } catch (Exception e) {
        procs.forEach(ShardWorkerProcess::close);
        transport.close();
        throw e;
      }
      owned.addAll(procs);
      owned.add(transport);
      return new Pools(bs, owned);
    }

    private static Resources capacity(Options o) {
      return Resources.of(o.workers() * 1000L, o.workers() * (1L << 30));
    }

    @Override
    public void close() throws Exception {
      for (AutoCloseable c : owned) {
        c.close();
      }
    }
  }

  /** The rows as a table, with Penumbra's ratios to uniform at the same transport and load. */
  public static void table(Report r, PrintStream out) {
    out.printf("%-10s %5s %-9s %5s %6s %9s %9s %6s %9s %9s %7s %6s %4s %4s %5s %9s %9s%n", "transport", "load",
        "policy", "jobs", "failed", "p50 ms", "p99 ms", "strag", "res c-s", "used c-s", "shards", "retry", "lost",
        "dup", "wrong", "p99/unif", "res/unif");
    for (Row x : r.rows()) {
      Row u = r.rows().stream().filter(y -> y.transport().equals(x.transport()) && y.load() == x.load()
          && y.policy().equals(UNIFORM)).findFirst().orElse(x);
      out.printf(Locale.ROOT, "%-10s %5.2f %-9s %5d %6d %9.0f %9.0f %6.2f %9.1f %9.1f %7d %6d %4d %4d %5d %9.2f %9.2f%n",
          x.transport(), x.load(), x.policy(), x.jobs(), x.failed(), x.p50Millis(), x.p99Millis(), x.stragglerP50(),
          x.reservedCoreSeconds(), x.usedCoreSeconds(), x.shards(), x.retries(), x.lost(), x.duplicates(),
          x.jobsWrong(), x.p99Millis() / u.p99Millis(), x.reservedCoreSeconds() / u.reservedCoreSeconds());
    }
  }

  public static void json(Report r, PrintStream out) throws java.io.IOException {
    out.println(Json.pretty(r));
  }
}
