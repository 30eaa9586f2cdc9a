package dev.penumbra.cli;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.query.QueryGateway;
import dev.penumbra.query.QueryJson;
import dev.penumbra.server.Json;
import dev.penumbra.query.QueryProfile;
import dev.penumbra.query.QueryReport;
import dev.penumbra.query.QueryRequest;
import dev.penumbra.query.QueryResponse;
import dev.penumbra.query.shadow.QueryRejectedException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;

/** {@code penumbra query "SELECT ..."}: runs one query through the gateway on the embedded TPC-H database. */
@Command(
    name = "query",
    mixinStandardHelpOptions = true,
    description =
      "Runs one SQL query on the embedded TPC-H database (generated on first use under ~/.cache/penumbra): "
      + "shadow on a sample, predict, reserve by priority, run on exactly the reservation; prints the first rows "
      + "and the report.")
final class QueryCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "SQL", description = "One SELECT (or WITH) statement over the TPC-H tables.")
  String sql;

  @Option(names = "--priority", paramLabel = "critical|standard|batch", defaultValue = "standard",
      description = "Priority: sizing quantile and queue order. Default: ${DEFAULT-VALUE}.")
  String priority;

  @Option(names = "--user", paramLabel = "NAME", defaultValue = "${sys:user.name}",
      description = "Who submits it. Default: the OS user.")
  String user;

  @Option(names = "--scale", paramLabel = "SF", defaultValue = "0.1",
      description = "TPC-H scale factor of the embedded database. Default: ${DEFAULT-VALUE}.")
  String scale;

  @Option(names = "--format", paramLabel = "table|json", defaultValue = "table",
      description = "Output on stdout. Default: ${DEFAULT-VALUE}.")
  String format;

  @Option(names = "--rows", paramLabel = "N", defaultValue = "20", description = "Rows to print. Default: ${DEFAULT-VALUE}.")
  int rows;

  @Option(names = "--cache-dir", paramLabel = "DIR", description = "Default: ~/.cache/penumbra. The folder where the database file is kept.")
  Path cacheDir;

  @Override
  public Integer call() throws Exception {
    OptionChecks.format(spec, format);
    Priority p;
    try {
      p = Priority.parse(priority);
    } catch (IllegalArgumentException e) {
      throw OptionChecks.invalid(spec, "--priority", priority, "not one of critical, standard, batch");
    }
    double sf = parseScale(spec, scale);
    if (rows < 0) {
      throw OptionChecks.invalid(spec, "--rows", Integer.toString(rows), "must be >= 0");
    }
    if (user == null || user.isBlank()) {
      throw OptionChecks.invalid(spec, "--user", String.valueOf(user), "must not be blank");
    }
    if (sql == null || sql.isBlank()) {
      throw OptionChecks.invalid(spec, "SQL", String.valueOf(sql), "must not be blank");
    }
    PrintStream err = System.err;
    QueryGateway.Builder b = QueryGateway.builder().scale(sf).maxRows(rows).progress(err::println);
    if (cacheDir != null) {
      b.cacheDir(cacheDir);
    }
    try (QueryGateway gw = b.build()) {
      QueryResponse r;
      try {
        r = gw.submit(new QueryRequest(sql, user, Sla.of(p)));
      } catch (QueryRejectedException e) {
        err.println("query rejected (" + e.kind().name().toLowerCase(Locale.ROOT).replace('_', ' ') + "): "
            + e.engineMessage());
        return CommandLine.ExitCode.USAGE;
      }
      if (format.equals("json")) {
        System.out.println(Json.pretty(QueryJson.response(r)));
      } else {
        printTable(r, System.out);
      }
      return r.report().succeeded() ? 0 : 1;
    }
  }

  static double parseScale(CommandLine.Model.CommandSpec spec, String text) {
    double sf;
    try {
      sf = Double.parseDouble(text);
    } catch (NumberFormatException e) {
      throw OptionChecks.invalid(spec, "--scale", text, "not a number");
    }
    if (!(sf > 0) || sf > 100) {
      throw OptionChecks.invalid(spec, "--scale", text, "must be > 0 and <= 100");
    }
    return sf;
  }

  static void printTable(QueryResponse r, PrintStream out) {
    List<List<String>> cells = new ArrayList<>();
    cells.add(r.columns());
    for (List<Object> row : r.rows()) {
      cells.add(row.stream().map(v -> v == null ? "NULL" : v.toString()).toList());
    }
    int[] width = new int[r.columns().size()];
    for (List<String> row : cells) {
      for (int i = 0; i < width.length && i < row.size(); i++) {
        width[i] = Math.min(40, Math.max(width[i], row.get(i).length()));
      }
    }
    for (int k = 0; k < cells.size(); k++) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < width.length; i++) {
        String v = cells.get(k).get(i);
        if (v.length() > 40) {
          v = v.substring(0, 39) + "…";
        }
        sb.append(i == 0 ? "" : " | ").append(String.format(Locale.ROOT, "%-" + width[i] + "s", v));
      }
      out.println(sb.toString().stripTrailing());
      if (k == 0) {
        out.println("-".repeat(Math.max(3, sb.length())));
      }
    }
    out.printf(Locale.ROOT, "(%d rows%s)%n%n", r.rowCount(), r.rowCount() > r.rows().size()
        ? ", first " + r.rows().size() + " shown" : "");
    QueryReport rep = r.report();
    out.printf(Locale.ROOT, "outcome      %s%s%s%n", rep.outcome().name().toLowerCase(Locale.ROOT),
        rep.attempts() > 1 ? " (after a retry)" : "", rep.error().map(e -> ": " + e).orElse(""));
    if (rep.shadow().skipped().isPresent()) {
      out.printf(Locale.ROOT, "shadow       plan only, %s (sample run skipped: %s)%n", ms(rep.shadow().wallNanos()),
          rep.shadow().skipped().get());
    } else {
      out.printf(Locale.ROOT, "shadow       %.0f%% sample (effective %.2f%%), %s, %s CPU%s%n",
          rep.shadow().fraction() * 100, rep.shadow().effectiveFraction() * 100, ms(rep.shadow().wallNanos()),
          ms(rep.shadow().cpuNanos()), rep.shadow().cutOff() ? ", cut off" : "");
    }
    var pr = rep.prediction();
    out.printf(Locale.ROOT, "prediction   %s%s: memory %s (p90 %s, p99 %s), CPU %s, wall %s, read %s%n",
        pr.tier().name().toLowerCase(Locale.ROOT), pr.lowConfidence() ? " (low confidence)" : "",
        Resources.formatBytes(pr.memoryBytes().point()), Resources.formatBytes(pr.memoryBytes().at(0.9)),
        Resources.formatBytes(pr.memoryBytes().at(0.99)), ms(pr.cpuNanos().point()), ms(pr.wallNanos().point()),
        Resources.formatBytes(pr.bytesRead().point()));
    out.printf(Locale.ROOT, "reservation  %s, %s on node %s (#%d), queued %s%n",
        Resources.formatCpu(rep.reservation().amount().cpuMillis()),
        Resources.formatBytes(rep.reservation().amount().memoryBytes()), rep.reservation().node(),
        rep.reservation().id(), ms(rep.reservation().queueWaitNanos()));
    QueryProfile a = rep.actual();
    out.printf(Locale.ROOT, "actual       memory %s, CPU %s, wall %s, read %s, scanned %d rows%s%n",
        Resources.formatBytes(a.peakMemoryBytes()), ms(a.cpuNanos()), ms(a.wallNanos()),
        Resources.formatBytes(a.bytesRead()), a.rowsScanned(),
        a.spilledBytes() > 0 ? ", spilled " + Resources.formatBytes(a.spilledBytes()) : "");
    for (QueryReport.Adjustment adj : rep.adjustments()) {
      out.printf(Locale.ROOT, "adjustment   %s %s -> %s (%s)%n", adj.kind().name().toLowerCase(Locale.ROOT),
          Resources.formatBytes(adj.before().memoryBytes()), Resources.formatBytes(adj.after().memoryBytes()),
          adj.reason());
    }
  }

  static String ms(long nanos) {
    return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
  }
}
