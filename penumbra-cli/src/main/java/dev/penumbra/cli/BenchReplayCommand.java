package dev.penumbra.cli;

import dev.penumbra.eval.policy.Policies;
import dev.penumbra.eval.replay.ReplayBench;
import dev.penumbra.eval.replay.ReplayBenchReport;
import dev.penumbra.eval.report.Reporter;
import dev.penumbra.eval.trace.Trace;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code penumbra bench replay}: replays the benchmark trace set with every policy at lead 1 and a 1% budget
 * and prints, overall and per dataset, each policy's median slack-at-budget and oracle gap, how often and by
 * how much penumbra beats the best baseline, whether the targets are met, and the wall time.
 */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description =
      "Replays the benchmark trace set (NAB realAWSCloudwatch CPU, Bitbrains cpu, memory, io and network, Alibaba 2018 "
      + "machines' cpu and memory, Alibaba GenAI 2026 pod memory) with every policy at lead 1 and budget 1%%, "
      + "and reports a tuning and a validation part of it: the targets are judged on validation.")
final class BenchReplayCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--data", paramLabel = "DIR", defaultValue = "../shared/data",
      description = "Default: ${DEFAULT-VALUE}. The directory holding the data sets.")
  Path data;

  @Mixin
  OutputFormat output;

  @Mixin
  ReportFile report;

  @Option(names = "--threads", paramLabel = "N", description = "Worker threads. Default: one per core.")
  Integer threads;

  @Override
  public Integer call() {
    long start = System.nanoTime();
    int workers = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
    OptionChecks.atLeast(spec, "--threads", workers, 1);
    if (!Files.isDirectory(data)) {
      throw OptionChecks.invalid(spec, "--data", data.toString(), "no such directory; point --data at the shared data directory");
    }
    Optional<String> missing = ReplayBench.missing(data);
    if (missing.isPresent()) {
      throw OptionChecks.invalid(spec, "--data", data.toString(), "has no " + missing.get());
    }

    PrintStream err = System.err;
    Map<ReplayBench.Dataset, List<Trace>> sets;
    try {
      sets = ReplayBench.read(data, m -> err.println("bench: " + m));
    } catch (IllegalArgumentException e) {
      throw OptionChecks.invalid(spec, "--data", data.toString(), e.getMessage());
    }
    int traces = sets.values().stream().mapToInt(List::size).sum();
    double readSeconds = (System.nanoTime() - start) / 1e9;
    err.println(String.format(Locale.ROOT, "bench: read %d traces in %.1fs; replaying %d policies",
        traces, readSeconds, Policies.names().size()));
    ReplayCommand.Progress progress = new ReplayCommand.Progress(err, System.console() != null);
    ReplayBench.Result result = ReplayBench.run(sets, workers, progress);
    progress.finish();
    double wall = (System.nanoTime() - start) / 1e9;
    try {
      new ReplayBenchReport(result, readSeconds, wall).print(output.value(), System.out);
      report.write(html -> Reporter.of("html").write(result.replay(), html));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return 0;
  }
}
