package dev.penumbra.cli;

import dev.penumbra.server.ServerConfig;
import dev.penumbra.eval.server.LoadBench;
import dev.penumbra.eval.server.LoadBenchReport;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code penumbra bench server}: a bounded load test of the control plane on loopback — concurrent clients, a
 * fixed number of requests or a time limit, whichever comes first — with the ledger invariant checked on every
 * ledger event and nothing left reserved afterwards.
 */
@Command(
    name = "server",
    mixinStandardHelpOptions = true,
    description =
      "Starts the control plane on a free 127.0.0.1 port and loads it with concurrent clients (query submissions "
      + "of mixed priority and reads of nodes, reservations, events, metrics) until --requests or --seconds is reached.")
final class BenchServerCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--clients", paramLabel = "N", defaultValue = "8", description = "Concurrent clients. Default: ${DEFAULT-VALUE}.")
  int clients;

  @Option(names = "--requests", paramLabel = "N", defaultValue = "600", description = "Requests in all. Default: ${DEFAULT-VALUE}.")
  int requests;

  @Option(names = "--seconds", paramLabel = "S", defaultValue = "60", description = "Time limit. Default: ${DEFAULT-VALUE}.")
  double seconds;

  @Option(names = "--query-share", paramLabel = "F", defaultValue = "0.5",
      description = "Share of requests that submit a query, in [0, 1]. Default: ${DEFAULT-VALUE}.")
  double queryShare;

  @Option(names = "--hostile-share", paramLabel = "F", defaultValue = "0.2",
      description = "Share of requests a hostile client sends instead (bad bodies, methods, origins, SQL sandbox "
          + "probes; a hog holds the whole node from the start), in [0, 1]. Default: ${DEFAULT-VALUE}.")
  double hostileShare;

  @Option(names = "--scale", paramLabel = "SF", description = "TPC-H scale factor of the embedded database. Default: the server's (0.1).")
  Double scale;

  @Mixin
  OutputFormat output;

  @Option(names = "--restart",
      description = "Instead of the load: run queries until the query model is fitted (at most --requests, or "
          + "--seconds), stop, and start again on the same data directory with the saved model and without it "
          + "(the saved runs re-fed); prints each start's time to ready and to a model.")
  boolean restart;

  @Override
  public Integer call() throws Exception {
    OptionChecks.atLeast(spec, "--clients", clients, 1);
    OptionChecks.atLeast(spec, "--requests", requests, 1);
    if (!(seconds > 0) || Double.isInfinite(seconds)) {
      throw OptionChecks.invalid(spec, "--seconds", Double.toString(seconds), "must be > 0 and finite");
    }
    if (!(queryShare >= 0 && queryShare <= 1)) {
      throw OptionChecks.invalid(spec, "--query-share", Double.toString(queryShare), "must be in [0, 1]");
    }
    if (!(hostileShare >= 0 && hostileShare <= 1)) {
      throw OptionChecks.invalid(spec, "--hostile-share", Double.toString(hostileShare), "must be in [0, 1]");
    }
    ServerConfig cfg = ServerConfig.defaults();
    if (scale != null) {
      if (!(scale > 0) || scale > 100) {
        throw OptionChecks.invalid(spec, "--scale", scale.toString(), "must be in (0, 100]");
      }
      ServerConfig.Query q = cfg.query();
      cfg = new ServerConfig(cfg.server(), cfg.ledger(), new ServerConfig.Query(q.enabled(), scale, q.cacheDir(),
          q.engineInstances(), q.maxRows(), q.timeout(), q.maxQueued()), cfg.stream(), cfg.task(), cfg.demo());
    }
    PrintStream err = System.err;
    if (restart) {
      err.printf(Locale.ROOT, "bench server --restart: at most %d queries or %.0f s to fit the query model, then two"
          + " starts on its data directory%n", requests, seconds);
      dev.penumbra.eval.server.RestartBench.Result r = dev.penumbra.eval.server.RestartBench.run(cfg.query().scale(),
          requests, Duration.ofNanos((long) (seconds * 1e9)), 42, err::println);
      if (output.json()) {
        System.out.println(dev.penumbra.server.Json.pretty(r));
      } else {
        System.out.printf(Locale.ROOT, "%d queries; saved model version %d on %d samples%n", r.queries(), r.version(),
            r.samples());
        System.out.printf(Locale.ROOT, "%-22s %10s %12s %12s %8s %10s%n", "start", "ready ms", "model ms", "settled ms",
            "version", "trainedOn");
        java.util.Map<String, dev.penumbra.eval.server.RestartBench.Start> starts = new java.util.TreeMap<>(
            java.util.Comparator.reverseOrder());
        if (r.with() != null) {
          starts.put("with saved model", r.with());
          starts.put("without (re-fed)", r.without());
        }
        for (var e : starts.entrySet()) {
          var st = e.getValue();
          System.out.printf(Locale.ROOT, "%-22s %10.0f %12.0f %12.0f %8d %10d%n", e.getKey(), st.readyMillis(),
              st.modelMillis(), st.settledMillis(), st.version(), st.trainedOn());
        }
        System.out.printf(Locale.ROOT, "the model alone (saved samples resampled): %8s %12s %12s %10s%n", "samples",
            "re-fed ms", "restored ms", "saved KiB");
        for (var m : r.scaling()) {
          System.out.printf(Locale.ROOT, "%43s %8d %12.0f %12.0f %10.0f%n", "", m.samples(), m.refeedMillis(),
              m.restoreMillis(), m.bytes() / 1024.0);
        }
        var j = r.journal();
        System.out.printf(Locale.ROOT, "sample journal: %d appends, mean %.0f us, max %.0f us (query mean %.1f ms);"
            + " same-size appends on this disk: fsync p50 %.0f / p99 %.0f us, no fsync p50 %.1f / p99 %.1f us%n",
            j.appends(), j.appendMeanMicros(), j.appendMaxMicros(), j.queryMeanMillis(), j.syncedP50Micros(),
            j.syncedP99Micros(), j.unsyncedP50Micros(), j.unsyncedP99Micros());
      }
      return 0;
    }
    LoadBench.Options options = new LoadBench.Options(clients, requests,
        Duration.ofNanos((long) (seconds * 1e9)), queryShare, 42, hostileShare);
    err.printf(Locale.ROOT, "bench server: %d clients, %d requests or %.0f s, %.0f%% hostile, of the rest %.0f%%"
        + " queries, on 127.0.0.1%n", clients, requests, seconds, hostileShare * 100, queryShare * 100);
    int step = Math.max(1, requests / 20);
    LoadBench.Result r = LoadBench.run(cfg, options, done -> {
      if (done % step == 0) {
        err.printf(Locale.ROOT, "  %d/%d requests%n", done, requests);
      }
    });
    LoadBenchReport report = new LoadBenchReport(r);
    report.print(output.value(), System.out);
    return report.clean() ? 0 : 1;
  }
}
