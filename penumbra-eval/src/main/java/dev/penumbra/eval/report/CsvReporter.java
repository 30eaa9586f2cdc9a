package dev.penumbra.eval.report;

import dev.penumbra.eval.replay.Metric;
import dev.penumbra.eval.replay.PolicyRun;
import dev.penumbra.eval.replay.ReplayResult;
import java.io.IOException;
import java.io.Writer;

/** One CSV row per (trace, policy); metric values raw (fractions as fractions), empty when undefined. */
final class CsvReporter implements Reporter {

  @Override
  public void write(ReplayResult result, Writer out) throws IOException {
    StringBuilder header = new StringBuilder("trace,resource,unit,intervals,scored,lead,budget,policy");
    for (Metric m : Metric.values()) {
      header.append(',').append(m.label());
    }
    out.write(header.append('\n').toString());
    for (PolicyRun run : result.runs()) {
      StringBuilder row = new StringBuilder();
      row.append(quote(run.trace().name())).append(',')
          .append(run.trace().resource().label()).append(',')
          .append(quote(run.trace().unit())).append(',')
          .append(run.trace().length()).append(',')
          .append(run.trace().length() - run.warmup()).append(',')
          .append(result.options().lead()).append(',')
          .append(result.options().budget()).append(',')
          .append(run.policy());
      for (Metric m : Metric.values()) {
        double v = run.metric(m);
        row.append(',').append(Double.isFinite(v) ? (m.type() == Metric.Type.COUNT ? Long.toString(Math.round(v)) : Double.toString(v)) : "");
      }
      out.write(row.append('\n').toString());
    }
    out.flush();
  }

  static String quote(String s) {
    if (s.contains(",") || s.contains("\"") || s.contains("\n")) {
      return "\"" + s.replace("\"", "\"\"") + "\"";
    }
    return s;
  }
}
