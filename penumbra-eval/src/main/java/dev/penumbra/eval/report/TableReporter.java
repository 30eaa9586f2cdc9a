package dev.penumbra.eval.report;

import dev.penumbra.eval.replay.Metric;
import dev.penumbra.eval.replay.PolicyRun;
import dev.penumbra.eval.replay.ReplayResult;
import dev.penumbra.eval.replay.Summary;
import dev.penumbra.eval.trace.Trace;
import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A fixed-width text table per trace, then the summary across traces. */
final class TableReporter implements Reporter {

  @Override
  public void write(ReplayResult result, Writer out) throws IOException {
    for (Trace trace : result.traces()) {
      List<PolicyRun> runs = result.runs(trace);
      int warmup = runs.isEmpty() ? 0 : runs.get(0).warmup();
      out.write(String.format(Locale.ROOT, "%s  (%s, %s; %d intervals, first %d unscored; lead %d, budget %s)%n",
          trace.name(), trace.resource().label(), trace.unit(), trace.length(), warmup,
          result.options().lead(), Metric.SLACK.format(result.options().budget())));
      List<String[]> rows = new ArrayList<>();
      String[] header = new String[Metric.values().length + 1];
      header[0] = "policy";
      for (Metric m : Metric.values()) {
        header[m.ordinal() + 1] = m.label();
      }
      rows.add(header);
      for (PolicyRun run : runs) {
        String[] row = new String[header.length];
        row[0] = run.policy();
        for (Metric m : Metric.values()) {
          row[m.ordinal() + 1] = m.format(run.metric(m));
        }
        rows.add(row);
      }
      writeAligned(rows, out);
      out.write(System.lineSeparator());
    }
    Summary s = result.summary();
    out.write(String.format(Locale.ROOT, "Summary over %d trace(s): medians over traces%n", s.traces()));
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"policy", "median_slack_at_budget", "median_oracle_gap", "seconds"});
    for (Map.Entry<String, Double> e : s.medianSlackAtBudget().entrySet()) {
      rows.add(new String[] {e.getKey(), Metric.SLACK_AT_BUDGET.format(e.getValue()),
          Metric.ORACLE_GAP.format(s.medianOracleGap().get(e.getKey())),
          String.format(Locale.ROOT, "%.2f", s.seconds().get(e.getKey()))});
    }
    writeAligned(rows, out);
    if (!Double.isNaN(s.penumbraWinShare())) {
      out.write(String.format(Locale.ROOT, "penumbra beats every baseline on %s of traces; penumbra / best baseline on the median trace: %s%n",
          Metric.SLACK.format(s.penumbraWinShare()), Metric.MARGIN_AT_BUDGET.format(s.medianRatioToBestBaseline())));
    }
    out.flush();
  }

  private static void writeAligned(List<String[]> rows, Writer out) throws IOException {
    out.write(Tables.aligned(rows));
  }
}
