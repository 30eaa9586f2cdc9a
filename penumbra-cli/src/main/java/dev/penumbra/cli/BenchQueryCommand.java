package dev.penumbra.cli;

import dev.penumbra.query.SqlLexer;
import dev.penumbra.query.QueryGateway;
import dev.penumbra.eval.query.QueryBench;
import dev.penumbra.eval.query.QueryBenchReport;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code penumbra bench query}: prediction accuracy on unseen queries, the shadow's overhead, and Penumbra vs
 * FIFO fixed slots vs no admission control on one concurrent mixed-priority burst.
 */
@Command(
    name = "query",
    mixinStandardHelpOptions = true,
    description =
      "Query shadowing benchmark on TPC-H: q-error of predicted peak memory and wall time on queries the model "
      + "did not train on, shadow time / primary time, and a concurrent mixed-priority burst under a fixed "
      + "budget with Penumbra, FIFO with equal fixed slots, and no admission control; then a load sweep "
      + "(open-loop arrivals at shares of capacity) with the same three side by side.")
final class BenchQueryCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--scale", paramLabel = "SF", defaultValue = "1",
      description = "TPC-H scale factor. Default: ${DEFAULT-VALUE}.")
  String scale;

  @Option(names = "--queries", paramLabel = "FILE",
      description = "Extra SQL statements over the TPC-H schema, separated by ';', tested as unseen queries.")
  Path queries;

  @Option(names = "--shapes", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Also test the built-in held-out shapes (36 analytic statements no training template has;"
          + " --no-shapes skips them). Default: ${DEFAULT-VALUE}.")
  boolean shapes;

  @Option(names = "--operator-scaling", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Predict new shapes from the sample's profile scaled per operator (--no-operator-scaling: the"
          + " whole-query model, for comparison). Default: ${DEFAULT-VALUE}.")
  boolean operatorScaling;

  @Mixin
  OutputFormat output;

  @Option(names = "--engine", paramLabel = "duckdb|postgres", defaultValue = "duckdb",
      description = "Primary engine. Default: ${DEFAULT-VALUE}.")
  String engine;

  @Option(names = "--cache-dir", paramLabel = "DIR", description = "Default: ~/.cache/penumbra. The folder where the database file is kept.")
  Path cacheDir;

  @Option(names = "--train", paramLabel = "N", defaultValue = "80", description = "Training queries. Default: ${DEFAULT-VALUE}.")
  int train;

  @Option(names = "--test", paramLabel = "N", defaultValue = "40", description = "Test queries. Default: ${DEFAULT-VALUE}.")
  int test;

  @Option(names = "--burst", paramLabel = "N", defaultValue = "60",
      description = "Queries of the end-to-end burst, which each mode runs three times (a warm-up round, then two "
          + "measured). Default: ${DEFAULT-VALUE}.")
  int burst;

  @Option(names = "--loads", paramLabel = "LIST", defaultValue = "0.25,0.5,0.75,1,1.5",
      description = "Load sweep levels, shares of capacity separated by ',', each in (0, 10]; 'none' skips the"
          + " sweep. Default: ${DEFAULT-VALUE}.")
  String loads;

  @Option(names = "--sweep-queries", paramLabel = "N", defaultValue = "24",
      description = "Queries per level and mode of the load sweep (>= 4). Default: ${DEFAULT-VALUE}.")
  int sweepQueries;

  @Option(names = "--html", paramLabel = "FILE",
      description = "Also write the load sweep's plots (latency, throughput, cost against load) to this HTML file.")
  Path html;

  /** Parses --loads: 'none', or shares of capacity in (0, 10] separated by ','. */
  @Override
  public Integer call() throws Exception {
    OptionChecks.oneOf(spec, "--engine", engine, "duckdb", "postgres");
    double sf = QueryCommand.parseScale(spec, scale);
    if (train < 30) {
      throw OptionChecks.invalid(spec, "--train", Integer.toString(train), "must be >= 30 (the model's minimum)");
    }
    OptionChecks.atLeast(spec, "--test", test, 2);
    OptionChecks.atLeast(spec, "--burst", burst, 4);
    OptionChecks.atLeast(spec, "--sweep-queries", sweepQueries, 4);
    List<Double> levels = OptionChecks.loads(spec, "--loads", loads, 10);
    if (html != null && levels.isEmpty()) {
      throw OptionChecks.invalid(spec, "--html", html.toString(), "needs a load sweep (--loads is 'none')");
    }
    List<String> extra = List.of();
    if (queries != null) {
      String text;
      try {
        text = Files.readString(queries, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw OptionChecks.invalid(spec, "--queries", queries.toString(), "cannot read: " + e.getMessage());
      }
      try {
        extra = SqlLexer.statements(text);
      } catch (IllegalArgumentException e) {
        throw OptionChecks.invalid(spec, "--queries", queries.toString(), e.getMessage());
      }
    }
    PrintStream err = System.err;
    QueryBench.Options d = QueryBench.Options.defaults(cacheDir != null ? cacheDir : QueryGateway.defaultCacheDir());
    QueryBench.Options o = new QueryBench.Options(sf, d.seed(), engine, d.cacheDir(), extra, train, test, burst,
        d.memoryBudget(), d.fifoSlots(), levels, sweepQueries, shapes, operatorScaling);
    QueryBench.Result r;
    try {
      r = QueryBench.run(o, m -> err.println("bench query: " + m));
    } catch (IllegalArgumentException e) {
      if (e.getMessage() != null && e.getMessage().startsWith("--queries")) {
        throw OptionChecks.invalid(spec, "--queries", queries.toString(), e.getMessage().substring(10));
      }
      throw e;
    }
    if (html != null) {
      QueryBench.writeHtml(r, html);
      err.println("bench query: wrote " + html);
    }
    new QueryBenchReport(r).print(output.value(), System.out);
    return 0;
  }
}
