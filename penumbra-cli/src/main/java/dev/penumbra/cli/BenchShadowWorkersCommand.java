package dev.penumbra.cli;

import dev.penumbra.eval.cluster.ShadowWorkerBench;
import dev.penumbra.eval.cluster.ShadowWorkerReport;
import dev.penumbra.server.Json;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code penumbra bench shadow-workers}: query shadow throughput with 0, 1, 2, 3 shadow worker processes. */
@Command(
    name = "shadow-workers",
    mixinStandardHelpOptions = true,
    description =
      "Measures query shadows per second of one control plane with local shadows only and with each number of "
      + "shadow worker processes (penumbra serve --role shadow) in --workers, on 127.0.0.1, then once more with the "
      + "most workers and one killed with kill -9 halfway: latency, CPU per shadow in the control plane and the "
      + "workers, where the shadows ran, shadows lost (target 0), and what that projects to on N machines.")
final class BenchShadowWorkersCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--workers", paramLabel = "N,N,...", defaultValue = "0,1,2,3",
      description = "Worker counts, one level each (0: local shadows only). Default: ${DEFAULT-VALUE}.")
  String workers;

  @Option(names = "--clients", paramLabel = "N", defaultValue = "8",
      description = "Concurrent client threads shadowing queries. Default: ${DEFAULT-VALUE}.")
  int clients;

  @Option(names = "--seconds", paramLabel = "S", defaultValue = "20",
      description = "Measured seconds per level. Default: ${DEFAULT-VALUE}.")
  double seconds;

  @Option(names = "--warmup", paramLabel = "S", defaultValue = "10",
      description = "Unmeasured seconds before each level. Default: ${DEFAULT-VALUE}.")
  double warmup;

  @Option(names = "--kill", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Run the last level again with one worker killed (kill -9) halfway. Default: ${DEFAULT-VALUE}.")
  boolean kill;

  @Option(names = "--scale", paramLabel = "SF", defaultValue = "0.1",
      description = "TPC-H scale factor. Default: ${DEFAULT-VALUE}.")
  double scale;

  @Option(names = "--cache-dir", paramLabel = "DIR",
      description = "Where the TPC-H database file is kept (generated when absent). Default: ~/.cache/penumbra.")
  Path cacheDir;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "7",
      description = "The workload's seed. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Mixin
  ReportFile report;

  @Mixin
  OutputFormat output;

  @Override
  public Integer call() throws Exception {
    List<Integer> levels = OptionChecks.ints(spec, "--workers", workers, "count", 0, 16);
    OptionChecks.between(spec, "--clients", clients, 1, 256);
    OptionChecks.positiveUpTo(spec, "--seconds", seconds, 600);
    OptionChecks.notNegativeUpTo(spec, "--warmup", warmup, 600);
    OptionChecks.positiveUpTo(spec, "--scale", scale, 100);
    if (kill && levels.stream().allMatch(n -> n == 0)) {
      throw OptionChecks.invalid(spec, "--workers", workers, "--kill needs a level with at least one worker "
          + "(or give --no-kill)");
    }
    Path cache = cacheDir != null ? cacheDir : dev.penumbra.query.QueryGateway.defaultCacheDir();
    PrintStream err = System.err;
    err.printf(Locale.ROOT, "bench shadow-workers: levels %s workers, %d clients, %.0f s each (+%.0f s warm-up), "
        + "TPC-H SF %s%s%n", levels, clients, seconds, warmup, scale, kill ? ", then one worker killed" : "");
    ShadowWorkerBench.Result r = ShadowWorkerBench.run(new ShadowWorkerBench.Options(levels, clients,
        Duration.ofMillis((long) (seconds * 1000)), Duration.ofMillis((long) (warmup * 1000)), kill, scale, cache,
        seed), line -> err.println("  " + line));
    report.write(w -> ShadowWorkerReport.write(r, w));
    PrintStream out = System.out;
    if (output.json()) {
      out.println(Json.pretty(r));
    } else {
      out.printf(Locale.ROOT, "%-8s %-7s %10s %8s %8s %12s %12s %7s %6s %9s %5s %16s%n", "workers", "kill", "shadows/s",
          "p50 ms", "p99 ms", "ctl CPU ms", "wrk CPU ms", "remote", "local", "fell back", "lost", "before/after /s");
      for (ShadowWorkerBench.Level l : r.levels()) {
        out.printf(Locale.ROOT, "%-8d %-7s %10.1f %8.1f %8.1f %12.2f %12.2f %7d %6d %9d %5d %16s%n", l.workers(),
            l.killed() ? "yes" : "", l.perSecond(), l.p50Ms(), l.p99Ms(), l.controlCpuMsPerShadow(),
            l.workerCpuMsPerShadow(), l.remote(), l.local(), l.fellBack(), l.lost(), l.killed()
                ? String.format(Locale.ROOT, "%.1f/%.1f", l.beforeKillPerSecond(), l.afterKillPerSecond()) : "");
      }
      r.projection().forEach(out::println);
      out.printf(Locale.ROOT, "machine load: before %s, after %s%n", r.loadBefore(), r.loadAfter());
    }
    return r.levels().stream().allMatch(l -> l.lost() == 0) ? 0 : 1;
  }
}
