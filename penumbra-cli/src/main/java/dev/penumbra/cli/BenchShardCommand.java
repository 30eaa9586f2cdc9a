package dev.penumbra.cli;

import dev.penumbra.eval.shard.ShardBench;
import dev.penumbra.eval.shard.ShardBenchReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code penumbra bench shard}: a batch_task trace replayed in compressed time against backends of fixed capacity
 * with no sharding, uniform static sharding, reactive (AQE-like) splitting, Penumbra and the oracle side by side at
 * several load levels, plus the TPC-H merged-answer check. The harness is {@link ShardBench} in penumbra-eval.
 */
@Command(
    name = "shard",
    mixinStandardHelpOptions = true,
    description =
      "Replays the Alibaba v2017 batch trace (jobs -> tasks -> instances) against fixed backends with no "
      + "sharding, uniform static sharding, reactive splitting, Penumbra's predictive sharding and the "
      + "oracle, at several loads.")
final class BenchShardCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--trace", paramLabel = "FILE",
      defaultValue = "../shared/data/alibaba-v2017-batch/batch_task.csv",
      description = "Default: ../shared/data's Alibaba v2017 batch trace. A file in the batch_task format.", showDefaultValue = CommandLine.Help.Visibility.NEVER)
  Path trace;

  @Option(names = "--loads", paramLabel = "L,L,...", split = ",", hideParamSyntax = true, defaultValue = "0.5,0.8,1.0,1.3",
      description = "Load levels (requested core-seconds over capacity), each in (0, 10]. Default: ${DEFAULT-VALUE}.")
  List<String> loads;

  @Option(names = "--backends", paramLabel = "N", defaultValue = "8", description = "Backends. Default: ${DEFAULT-VALUE}.")
  int backends;

  @Option(names = "--cores", paramLabel = "N", defaultValue = "32",
      description = "Cores per backend. Default: ${DEFAULT-VALUE}.")
  int cores;

  @Option(names = "--shards", paramLabel = "N", defaultValue = "16",
      description = "Shards per job under the uniform static policy. Default: ${DEFAULT-VALUE}.")
  int shards;

  @Option(names = "--max-shards", paramLabel = "N", defaultValue = "256",
      description = "The most shards Penumbra (and the oracle) cut a job into. Default: ${DEFAULT-VALUE}.")
  int maxShards;

  @Option(names = "--jobs", paramLabel = "N", defaultValue = "300",
      description = "Most jobs scored (and tuned on). Default: ${DEFAULT-VALUE}.")
  int jobs;

  @Option(names = "--no-kill", description = "Do not kill a backend half-way.")
  boolean noKill;

  @Option(names = "--tpch-scale", paramLabel = "SF", defaultValue = "0.05",
      description = "TPC-H scale of the merged-answer check, 0 skips it. Default: ${DEFAULT-VALUE}.")
  double tpchScale;

  @Option(names = "--work-dir", paramLabel = "DIR",
      description = "Where TPC-H is generated. Default: a temporary directory.")
  Path workDir;

  @Mixin
  OutputFormat output;

  @Mixin
  ReportFile report;

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(trace)) {
      throw OptionChecks.invalid(spec, "--trace", trace.toString(), "no such file");
    }
    List<Double> parsed = OptionChecks.numbers(spec, "--loads", loads);
    boolean tmp = workDir == null;
    Path dir = tmp ? Files.createTempDirectory("penumbra-bench-shard") : workDir;
    ShardBench.Options o;
    try {
      o = new ShardBench.Options(trace, parsed, backends, cores, shards, maxShards, jobs, !noKill, dir, tpchScale, 50_000_000);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid option: " + e.getMessage());
    }
    ShardBench.Report r;
    try {
      r = ShardBench.run(o, System.err);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    } finally {
      if (tmp) {
        try (var files = Files.walk(dir)) {
          files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
    }
    if (output.json()) {
      ShardBenchReport.json(r, System.out);
    } else {
      ShardBenchReport.table(r, System.out);
    }
    report.write(w -> ShardBenchReport.html(r, w));
    return 0;
  }
}
