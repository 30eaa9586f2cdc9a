package dev.penumbra.cli;

import dev.penumbra.eval.shard.ShardLiveBench;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code penumbra bench shard-live}: uniform static sharding and Penumbra's on real backends in real time, in-process
 * and (with {@code --bootstrap}) over Kafka with worker processes. The harness is {@link ShardLiveBench}.
 */
@Command(
    name = "shard-live",
    mixinStandardHelpOptions = true,
    description =
      "Runs seeded synthetic jobs on real shard backends in real time, cut uniformly and by Penumbra, at several "
      + "loads: in-process, and over Kafka with worker processes when --bootstrap names a broker.")
final class BenchShardLiveCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--bootstrap", paramLabel = "HOST:PORT",
      description = "A Kafka broker on this machine: the Kafka transport runs too. Default: in-process only.")
  String bootstrap;

  @Option(names = "--loads", paramLabel = "L,L,...", split = ",", hideParamSyntax = true, defaultValue = "0.5,0.9,1.3",
      description = "Load levels (offered core-seconds over worker slots x arrival span), each in (0, 4]. "
          + "Default: ${DEFAULT-VALUE}.")
  List<String> loads;

  @Option(names = "--jobs", paramLabel = "N", defaultValue = "40", description = "Jobs per run. Default: ${DEFAULT-VALUE}.")
  int jobs;

  @Option(names = "--pools", paramLabel = "N", defaultValue = "2", description = "Pools. Default: ${DEFAULT-VALUE}.")
  int pools;

  @Option(names = "--workers", paramLabel = "N", defaultValue = "2",
      description = "Workers per pool. Default: ${DEFAULT-VALUE}.")
  int workers;

  @Option(names = "--shards", paramLabel = "N", defaultValue = "4",
      description = "Uniform's shards per unit (Penumbra's budget per job: this x its units). Default: ${DEFAULT-VALUE}.")
  int shards;

  @Option(names = "--key-micros", paramLabel = "N", defaultValue = "200",
      description = "CPU time per key, microseconds. Default: ${DEFAULT-VALUE}.")
  long keyMicros;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "7", description = "Seed of the jobs. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Mixin
  OutputFormat output;

  @Override
  public Integer call() throws Exception {
    if (bootstrap != null) {
      String host = bootstrap.contains(":") ? bootstrap.substring(0, bootstrap.lastIndexOf(':')) : bootstrap;
      if (!(host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]") || host.equals("::1"))
          || !bootstrap.matches(".*:\\d{1,5}")) {
        throw OptionChecks.invalid(spec, "--bootstrap", bootstrap, "must be a loopback host:port");
      }
    }
    List<Double> parsed = OptionChecks.numbers(spec, "--loads", loads);
    ShardLiveBench.Options o;
    try {
      o = new ShardLiveBench.Options(bootstrap, parsed, jobs, pools, workers, shards, keyMicros, seed);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid option: " + e.getMessage());
    }
    ShardLiveBench.Report r = ShardLiveBench.run(o, System.err);
    if (output.json()) {
      ShardLiveBench.json(r, System.out);
    } else {
      ShardLiveBench.table(r, System.out);
    }
    return 0;
  }
}
