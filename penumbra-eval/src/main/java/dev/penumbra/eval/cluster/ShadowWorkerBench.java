package dev.penumbra.eval.cluster;

import dev.penumbra.eval.report.Quantiles;
import dev.penumbra.query.shadow.QueryRejectedException;
import dev.penumbra.query.shadow.ShadowSite;
import dev.penumbra.query.workload.Workload;
import dev.penumbra.server.ServerConfig;
import dev.penumbra.server.ShadowWorker;
import dev.penumbra.server.ShadowWorkers;
import dev.penumbra.eval.report.MachineLoad;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * {@code penumbra bench shadow-workers}: query shadow throughput of one control plane with 0 (local shadows only),
 * 1, 2, 3 ... shadow worker processes on 127.0.0.1, then a run at the largest count in which one worker is killed
 * with {@code kill -9} halfway. The control plane is this JVM: the gateway's own local site (its replicas, 2 slots)
 * wrapped by {@link ShadowWorkers}, with the registry served on a loopback port the workers register with. A fixed
 * number of client threads shadow TPC-H workload queries (seeded) in a closed loop, so every level is offered the
 * same concurrency. Measured per level: shadows per second, latency p50/p99, CPU per shadow in the control plane
 * and in the workers (the JVMs' own CPU time), where the shadows ran, and shadows lost (a call that failed for a
 * reason other than its SQL: must be 0).
 */
public final class ShadowWorkerBench {

  private ShadowWorkerBench() {}

  /**
   * @param workers worker counts, one level each (0 = local shadows only)
   * @param clients concurrent client threads
   * @param seconds measured time per level
   * @param warmup unmeasured time before each level (JIT, replicas' caches)
   * @param kill whether to run the kill phase (the largest count, one worker killed halfway)
   * @param scale TPC-H scale factor
   * @param cacheDir where the TPC-H database file is (generated there when absent; every process reads it)
   * @param seed the workload's seed
   */
  public record Options(List<Integer> workers, int clients, Duration seconds, Duration warmup, boolean kill,
      double scale, Path cacheDir, long seed) {}

  /**
   * One level.
   *
   * @param workers workers up at the start
   * @param killed whether one was killed halfway
   * @param shadows shadows completed in the measured time
   * @param perSecond shadows per second
   * @param p50Ms latency, median
   * @param p99Ms latency, 99th percentile (nearest rank)
   * @param controlCpuMsPerShadow CPU of the control plane's JVM per shadow (all its threads: clients, dispatch,
   *     local DuckDB)
   * @param workerCpuMsPerShadow CPU of the worker JVMs per shadow (0 without workers)
   * @param remote shadows run on a worker
   * @param local shadows run locally because no worker was up
   * @param fellBack shadows run locally again after their worker failed
   * @param lost calls that failed for a reason other than their SQL
   * @param beforeKillPerSecond shadows per second before the kill (NaN without one)
   * @param afterKillPerSecond shadows per second after it
   */
  public record Level(int workers, boolean killed, long shadows, double perSecond, double p50Ms, double p99Ms,
      double controlCpuMsPerShadow, double workerCpuMsPerShadow, long remote, long local, long fellBack, long lost,
      double beforeKillPerSecond, double afterKillPerSecond) {}

  /** Every level, the machine's load before and after, and what the figures project to N machines. */
  public record Result(List<Level> levels, int clients, double scale, String loadBefore, String loadAfter,
      int cores, List<String> projection) {}

  public static Result run(Options o, Consumer<String> progress) throws Exception {
    String loadBefore = MachineLoad.text();
    ServerConfig config = ServerConfig.load(null, Map.of("PENUMBRA_QUERY_SCALE", Double.toString(o.scale()),
        "PENUMBRA_QUERY_CACHE_DIR", o.cacheDir().toAbsolutePath().toString(), "PENUMBRA_SERVER_HOST", "127.0.0.1"));
    List<Level> levels = new ArrayList<>();
    List<Process> processes = new ArrayList<>();
    Workload workload = Workload.tpch(o.scale());
    progress.accept("opening the control plane's replicas (TPC-H SF " + o.scale() + ") ...");
    try (ShadowWorker.Replicas local = ShadowWorker.Replicas.open(config.query(), 2, progress);
        ShadowWorkers registry = new ShadowWorkers(Clock.systemUTC(), ShadowWorkers.EXPIRY, o.scale(), 42);
        ShadowWorkers.Endpoint endpoint = registry.serve("127.0.0.1", 0)) {
      ShadowSite site = registry.around(local.engine());
      List<Integer> counts = new ArrayList<>(o.workers());
      if (o.kill()) {
        counts.add(-o.workers().stream().mapToInt(Integer::intValue).max().orElse(1));
      }
      for (int c : counts) {
        int want = Math.abs(c);
        while (processes.size() > want) {
          Process p = processes.remove(processes.size() - 1);
          p.destroy();
          p.waitFor(10, TimeUnit.SECONDS);
        }
        while (processes.size() < want) {
          processes.add(startWorker("w" + processes.size(), endpoint.url(), config, o, progress));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (registry.stats().workers().size() != want) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(want + " workers did not register within 120 s");
          }
          // Worker processes register over HTTP; the bench reads the registry again until all are in, bounded.
          Thread.sleep(50);
        }
        progress.accept(String.format(Locale.ROOT, "%d worker%s%s: %d clients, warm-up %d s, measuring %d s ...",
            want, want == 1 ? "" : "s", c < 0 ? ", one killed with kill -9 halfway" : "", o.clients(),
            o.warmup().toSeconds(), o.seconds().toSeconds()));
        Level l = level(site, registry, workload, processes, o, c < 0);
        progress.accept(String.format(Locale.ROOT, "  %.1f shadows/s, p50 %.1f ms, p99 %.1f ms, control plane "
            + "%.1f ms CPU/shadow, workers %.1f ms CPU/shadow, remote %d, local %d, fell back %d, lost %d",
            l.perSecond(), l.p50Ms(), l.p99Ms(), l.controlCpuMsPerShadow(), l.workerCpuMsPerShadow(), l.remote(),
            l.local(), l.fellBack(), l.lost()));
        levels.add(l);
        if (c < 0) {
          processes.removeIf(p -> !p.isAlive());
        }
      }
    } finally {
      for (Process p : processes) {
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
    }
    int cores = Runtime.getRuntime().availableProcessors();
    return new Result(levels, o.clients(), o.scale(), loadBefore, MachineLoad.text(), cores, projection(levels, cores));
  }

  private static Level level(ShadowSite site, ShadowWorkers registry, Workload workload, List<Process> workers,
      Options o, boolean kill) throws Exception {
    long warmEnd = System.nanoTime() + o.warmup().toNanos();
    long start = warmEnd;
    long end = start + o.seconds().toNanos();
    long half = start + o.seconds().toNanos() / 2;
    List<long[]> done = new CopyOnWriteArrayList<>(); // {finish nanos, latency nanos}
    AtomicLong lost = new AtomicLong();
    long[] cpu0 = new long[2];
    ShadowWorkers.Stats[] s0 = new ShadowWorkers.Stats[1];
    CompletableFuture<?>[] clients = new CompletableFuture<?>[o.clients()];
    for (int i = 0; i < clients.length; i++) {
      Random random = new Random(o.seed() * 1_000_003L + i);
      clients[i] = CompletableFuture.runAsync(() -> {
        while (System.nanoTime() < end) {
          String sql = workload.sample(random).sql();
          long t0 = System.nanoTime();
          try {
            site.shadow(sql, Duration.ofSeconds(2));
          } catch (QueryRejectedException e) {
            continue; // the workload's SQL is valid; a rejection would be the engine's, not a worker's
          } catch (RuntimeException e) {
            if (t0 >= start) {
              lost.incrementAndGet();
            }
            continue;
          }
          long t1 = System.nanoTime();
          if (t0 >= start && t1 <= end) {
            done.add(new long[] {t1, t1 - t0});
          }
        }
      }, command -> {
        Thread t = new Thread(command, "bench-shadow-client");
        t.setDaemon(true);
        t.start();
      });
    }
    sleepUntil(start);
    cpu0[0] = processCpuNanos();
    cpu0[1] = workersCpuNanos(workers);
    s0[0] = registry.stats();
    boolean killed = false;
    long victimCpu = 0;
    if (kill && !workers.isEmpty()) {
      sleepUntil(half);
      Process victim = workers.get(workers.size() - 1);
      // Its CPU until the kill: a dead process has no CPU time to read afterwards.
      victimCpu = victim.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
      Process k = new ProcessBuilder("kill", "-9", Long.toString(victim.pid())).inheritIO().start();
      k.waitFor(10, TimeUnit.SECONDS);
      killed = true;
    }
    sleepUntil(end);
    long cpuControl = processCpuNanos() - cpu0[0];
    long cpuWorkers = workersCpuNanos(workers) + victimCpu - cpu0[1];
    ShadowWorkers.Stats s1 = registry.stats();
    CompletableFuture.allOf(clients).get(60, TimeUnit.SECONDS);
    double secs = o.seconds().toNanos() / 1e9;
    double[] lat = done.stream().mapToDouble(d -> d[1] / 1e6).sorted().toArray();
    long n = lat.length;
    double before = Double.NaN;
    double after = Double.NaN;
    if (killed) {
      before = done.stream().filter(d -> d[0] < half).count() / (secs / 2);
      after = done.stream().filter(d -> d[0] >= half).count() / (secs / 2);
    }
    return new Level(workers.size(), killed, n, n / secs, n == 0 ? Double.NaN : Quantiles.sorted(lat, 0.5),
        n == 0 ? Double.NaN : Quantiles.sorted(lat, 0.99), n == 0 ? Double.NaN : cpuControl / 1e6 / n,
        n == 0 ? Double.NaN : cpuWorkers / 1e6 / n, s1.remote() - s0[0].remote(), s1.local() - s0[0].local(),
        s1.fellBack() - s0[0].fellBack(), lost.get(), before, after);
  }

  /**
   * What the measured CPU per shadow means on N machines: each worker machine of k cores runs about k / (worker
   * CPU per shadow) shadows a second, and one control plane dispatches at most (its cores) / (its CPU per remote
   * shadow).
   */
  static List<String> projection(List<Level> levels, int cores) {
    List<String> out = new ArrayList<>();
    Level remote = levels.stream().filter(l -> l.workers() > 0 && !l.killed() && l.shadows() > 0)
        .max(java.util.Comparator.comparingInt(Level::workers)).orElse(null);
    Level local = levels.stream().filter(l -> l.workers() == 0 && l.shadows() > 0).findFirst().orElse(null);
    if (local != null) {
      out.add(String.format(Locale.ROOT, "local only: %.1f ms of CPU per shadow in the control plane, so at most "
          + "%.0f shadows/s on its %d cores", local.controlCpuMsPerShadow(), cores * 1000 / local.controlCpuMsPerShadow(),
          cores));
    }
    if (remote != null) {
      double perWorkerCore = 1000 / remote.workerCpuMsPerShadow();
      double dispatch = 1000 / remote.controlCpuMsPerShadow();
      out.add(String.format(Locale.ROOT, "with workers: %.1f ms of worker CPU and %.1f ms of control-plane CPU per "
          + "shadow: each worker core adds about %.0f shadows/s; one control-plane core dispatches about %.0f/s",
          remote.workerCpuMsPerShadow(), remote.controlCpuMsPerShadow(), perWorkerCore, dispatch));
      for (int machines : new int[] {1, 2, 4, 8, 16}) {
        double workersRate = machines * cores * perWorkerCore;
        double cap = cores * dispatch;
        out.add(String.format(Locale.ROOT, "  %2d worker machines of %d cores: about %.0f shadows/s%s", machines,
            cores, Math.min(workersRate, cap), workersRate > cap ? " (the control plane's dispatch bounds it)" : ""));
      }
    }
    return out;
  }

  private static Process startWorker(String id, String controlPlane, ServerConfig config, Options o,
      Consumer<String> progress) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
        ShadowWorker.class.getName(), "--control-plane", controlPlane, "--id", id, "--slots", "2");
    pb.environment().putAll(Map.of("PENUMBRA_SERVER_PORT", "0", "PENUMBRA_SERVER_HOST", "127.0.0.1",
        "PENUMBRA_QUERY_SCALE", Double.toString(o.scale()),
        "PENUMBRA_QUERY_CACHE_DIR", o.cacheDir().toAbsolutePath().toString()));
    Path log = Files.createTempFile("penumbra-shadow-worker-" + id + "-", ".log");
    pb.redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Process p = pb.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = CompletableFuture.supplyAsync(() -> {
      try {
        return out.readLine();
      } catch (IOException e) {
        return null;
      }
    }).get(180, TimeUnit.SECONDS);
    if (line == null) {
      throw new IllegalStateException("worker " + id + " did not start; its log: " + log);
    }
    progress.accept("  " + line.strip() + " (pid " + p.pid() + ")");
    return p;
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    long ms = (nanos - System.nanoTime()) / 1_000_000;
    if (ms > 0) {
      // Pacing the load to its wall-clock schedule, not a wait for a condition.
      Thread.sleep(ms);
    }
  }

  private static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return 0;
  }

  private static long workersCpuNanos(List<Process> workers) {
    long sum = 0;
    for (Process p : workers) {
      if (!p.isAlive()) {
        continue;
      }
      sum += p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    }
    return sum;
  }

}
