package dev.penumbra.cli;

import dev.penumbra.eval.failover.FailoverBench;
import dev.penumbra.eval.failover.FailoverReports;
import dev.penumbra.failover.Thresholds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code penumbra bench failover}: live PostgreSQL nodes on replayed drives, three policies side by side. */
@Command(
    name = "failover",
    mixinStandardHelpOptions = true,
    description =
      "Starts PostgreSQL nodes on 127.0.0.1, pairs each with a drive of the test days whose SMART history "
      + "is replayed in compressed time, kills the node's postmaster (kill -9) when its drive fails, and runs "
      + "the policies none (restore from the archive), always (a standby per node) and penumbra side by side: "
      + "downtime per failure, acknowledged commits lost, standby-days, standbys for nodes that did not fail.")
final class BenchFailoverCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--data", paramLabel = "DIR", defaultValue = "../shared/data/backblaze-2013",
      description = "Default: ${DEFAULT-VALUE}. The folder of Backblaze's daily files.")
  Path data;

  @Option(names = "--nodes", paramLabel = "N", defaultValue = "4", description = "Live nodes (1-8). Default: ${DEFAULT-VALUE}.")
  int nodes;

  @Option(names = "--seconds-per-day", paramLabel = "S", defaultValue = "1",
      description = "Wall seconds per replayed day (0.2-60). Default: ${DEFAULT-VALUE}.")
  double secondsPerDay;

  @Option(names = "--rate", paramLabel = "N", defaultValue = "100",
      description = "Commits per second of each node's writer (1-2000). Default: ${DEFAULT-VALUE}.")
  int rate;

  @Option(names = "--thresholds", paramLabel = "alarm-rate|calibrated", defaultValue = "alarm-rate",
      description = "alarm-rate (the product's default, as serve and demo): provision at the risk exceeded by 1%% of "
          + "the training drive-days, promote at 0.1%%, decommission at half the provision level. calibrated: the "
          + "fixed risks of --provision, --promote, --decommission. Default: ${DEFAULT-VALUE}.")
  String thresholds;

  @Option(names = "--provision", paramLabel = "P", defaultValue = "0.7",
      description = "With --thresholds calibrated: risk at which penumbra provisions a standby. "
          + "Default: ${DEFAULT-VALUE}.")
  double provision;

  @Option(names = "--promote", paramLabel = "P", defaultValue = "0.9",
      description = "With --thresholds calibrated: risk at which penumbra moves the work. Default: ${DEFAULT-VALUE}.")
  double promote;

  @Option(names = "--decommission", paramLabel = "P", defaultValue = "0.5",
      description = "With --thresholds calibrated: risk below which a standby is removed. Default: ${DEFAULT-VALUE}.")
  double decommission;

  @Option(names = "--budget", paramLabel = "N", defaultValue = "2",
      description = "Penumbra's standby budget. Default: ${DEFAULT-VALUE}.")
  int budget;

  @Option(names = "--policy", paramLabel = "NAME", split = ",",
      description = "Policies to run (none, always, penumbra; penumbra-reprovision: penumbra with a new standby "
          + "right after a move while the node's last risk is at the provision threshold). Default: none, always, "
          + "penumbra.")
  List<String> policies;

  @Option(names = "--warm-connections", paramLabel = "N", defaultValue = "2",
      description = "Connections each node's endpoint opens to a ready standby in advance, handed to the first "
          + "clients after a move (0-16; 0: none). Default: ${DEFAULT-VALUE}.")
  int warmConnections;

  @Mixin
  OutputFormat output;

  @Mixin
  ReportFile report;

  @Override
  public Integer call() throws Exception {
    OptionChecks.oneOf(spec, "--thresholds", thresholds, "alarm-rate", "calibrated");
    boolean alarmRate = thresholds.equals("alarm-rate");
    CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
    for (String fixed : List.of("--provision", "--promote", "--decommission")) {
      if (alarmRate && parsed.hasMatchedOption(fixed)) {
        throw OptionChecks.invalid(spec, fixed, parsed.matchedOptionValue(fixed, 0.0).toString(),
            "fixed risks apply only with --thresholds calibrated");
      }
    }
    FailoverBench.Options o;
    try {
      Thresholds t = new Thresholds(decommission, provision, promote);
      o = new FailoverBench.Options(data, nodes, secondsPerDay, rate, t, alarmRate, budget,
          policies == null ? FailoverBench.DEFAULT_POLICIES : policies, 0.6, 3, 42, warmConnections);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid option: " + e.getMessage());
    }
    if (!Files.isDirectory(data)) {
      throw OptionChecks.invalid(spec, "--data", data.toString(), "no such directory");
    }
    FailoverBench.Result r = FailoverBench.run(o, System.err);
    System.out.print(output.json() ? FailoverReports.json(r) + "\n" : FailoverReports.table(r));
    report.write(w -> w.write(FailoverReports.html(r)));
    return 0;
  }
}
