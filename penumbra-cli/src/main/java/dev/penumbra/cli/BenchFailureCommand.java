package dev.penumbra.cli;

import dev.penumbra.eval.failover.FailureBench;
import dev.penumbra.eval.failover.FailureReports;
import java.io.IOException;
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

/** {@code penumbra bench failure}: the failure prediction engine against its baselines on held-out days. */
@Command(
    name = "failure",
    mixinStandardHelpOptions = true,
    description =
      "Trains the failure model on the earlier days of Backblaze's daily SMART files and scores it on the "
      + "later days against Backblaze's rule, drive age only and random alarms: precision, recall, lead time, "
      + "false alarms per day at the provision and promote thresholds, Brier score, ROC/PR and reliability.")
final class BenchFailureCommand implements Callable<Integer> {

  static final Path DEFAULT_DATA = Path.of("../shared/data/backblaze-2013");

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--train", paramLabel = "DIR",
      description = "Folder of the training days' files. Default: the shared Backblaze data, earlier 60%% of days.")
  Path train;

  @Option(names = "--test", paramLabel = "DIR",
      description = "Folder of the test days' files. Default: the same data, later 40%% of days.")
  Path test;

  @Option(names = "--horizon", paramLabel = "DAYS", defaultValue = "3",
      description = "Failure horizon in days (1-30). Default: ${DEFAULT-VALUE}.")
  int horizon;

  @Mixin
  OutputFormat output;

  @Mixin
  ReportFile report;

  @Override
  public Integer call() throws IOException {
    OptionChecks.between(spec, "--horizon", horizon, 1, 30);
    Path tr = train != null ? train : test != null ? null : DEFAULT_DATA;
    Path te = test != null ? test : train != null ? null : DEFAULT_DATA;
    if (tr == null || te == null) {
      throw OptionChecks.invalid(spec, train == null ? "--train" : "--test", "", "--train and --test go together (or neither)");
    }
    for (Path p : List.of(tr, te)) {
      if (!Files.isDirectory(p)) {
        throw OptionChecks.invalid(spec, p == tr ? "--train" : "--test", p.toString(), "no such directory");
      }
    }
    FailureBench.Options o = new FailureBench.Options(tr, te, 0.6, horizon, List.of(0.7, 0.9), 42);
    FailureBench.Result r;
    try {
      r = FailureBench.run(o, System.err);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    System.out.print(output.json() ? FailureReports.json(r) + "\n" : FailureReports.table(r));
    report.write(w -> w.write(FailureReports.html(r)));
    return 0;
  }
}
