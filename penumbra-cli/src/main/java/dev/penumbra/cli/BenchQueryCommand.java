package dev.penumbra.cli;

import dev.penumbra.query.QueryGateway;
import dev.penumbra.eval.query.QueryBench;
import dev.penumbra.eval.query.QueryBenchReport;
import dev.penumbra.server.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
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
      + "budget with Penumbra, FIFO with equal fixed slots, and no admission control.")
final class BenchQueryCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--scale", paramLabel = "SF", defaultValue = "1",
      description = "TPC-H scale factor. Default: ${DEFAULT-VALUE}.")
  String scale;

  @Option(names = "--queries", paramLabel = "FILE",
      description = "Extra SQL statements over the TPC-H schema, separated by ';', tested as unseen queries.")
  Path queries;

  @Option(names = "--format", paramLabel = "table|json", defaultValue = "table",
      description = "Output on stdout. Default: ${DEFAULT-VALUE}.")
  String format;

  @Option(names = "--engine", paramLabel = "duckdb|postgres", defaultValue = "duckdb",
      description = "Primary engine. Default: ${DEFAULT-VALUE}.")
  String engine;

  @Option(names = "--cache-dir", paramLabel = "DIR", description = "Where the database file is kept. Default: ~/.cache/penumbra.")
  Path cacheDir;

  @Option(names = "--train", paramLabel = "N", defaultValue = "80", description = "Training queries. Default: ${DEFAULT-VALUE}.")
  int train;

  @Option(names = "--test", paramLabel = "N", defaultValue = "40", description = "Test queries. Default: ${DEFAULT-VALUE}.")
  int test;

  @Option(names = "--burst", paramLabel = "N", defaultValue = "60",
      description = "Queries of the end-to-end burst. Default: ${DEFAULT-VALUE}.")
  int burst;

  @Override
  public Integer call() throws Exception {
    if (!List.of("table", "json").contains(format)) {
      throw QueryCommand.invalid(spec, "--format", format, "not one of table, json");
    }
    if (!List.of("duckdb", "postgres").contains(engine)) {
      throw QueryCommand.invalid(spec, "--engine", engine, "not one of duckdb, postgres");
    }
    double sf = QueryCommand.parseScale(spec, scale);
    if (train < 30) {
      throw QueryCommand.invalid(spec, "--train", Integer.toString(train), "must be >= 30 (the model's minimum)");
    }
    if (test < 2) {
      throw QueryCommand.invalid(spec, "--test", Integer.toString(test), "must be >= 2");
    }
    if (burst < 4) {
      throw QueryCommand.invalid(spec, "--burst", Integer.toString(burst), "must be >= 4");
    }
    List<String> extra = List.of();
    if (queries != null) {
      String text;
      try {
        text = Files.readString(queries, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw QueryCommand.invalid(spec, "--queries", queries.toString(), "cannot read: " + e.getMessage());
      }
      try {
        extra = QueryBench.parseStatements(text);
      } catch (IllegalArgumentException e) {
        throw QueryCommand.invalid(spec, "--queries", queries.toString(), e.getMessage());
      }
    }
    PrintStream err = System.err;
    QueryBench.Options d = QueryBench.Options.defaults(cacheDir != null ? cacheDir : QueryGateway.defaultCacheDir());
    QueryBench.Options o = new QueryBench.Options(sf, d.seed(), engine, d.cacheDir(), extra, train, test, burst,
        d.memoryBudget(), d.fifoSlots());
    QueryBench.Result r;
    try {
      r = QueryBench.run(o, m -> err.println("bench query: " + m));
    } catch (IllegalArgumentException e) {
      if (e.getMessage() != null && e.getMessage().startsWith("--queries")) {
        throw QueryCommand.invalid(spec, "--queries", queries.toString(), e.getMessage().substring(10));
      }
      throw e;
    }
    if (format.equals("json")) {
      System.out.println(Json.pretty(QueryBenchReport.json(r)));
    } else {
      QueryBenchReport.table(r, System.out);
    }
    return 0;
  }
}
