package dev.penumbra.eval.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.eval.replay.Metric;
import dev.penumbra.eval.replay.PolicyRun;
import dev.penumbra.eval.replay.ReplayResult;
import dev.penumbra.eval.replay.Summary;
import java.io.IOException;
import java.io.Writer;
import java.util.Map;

/**
 * One JSON document: {@code {"lead", "budget", "runs": [one object per (trace, policy)], "summary"}}. Each run
 * object has trace, resource, unit, intervals, scored, policy and every metric by its label; undefined values
 * (budget unreachable) are null.
 */
final class JsonReporter implements Reporter {

  private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Override
  public void write(ReplayResult result, Writer out) throws IOException {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("lead", result.options().lead());
    root.put("budget", result.options().budget());
    ArrayNode runs = root.putArray("runs");
    for (PolicyRun run : result.runs()) {
      ObjectNode o = runs.addObject();
      o.put("trace", run.trace().name());
      o.put("resource", run.trace().resource().label());
      o.put("unit", run.trace().unit());
      o.put("intervals", run.trace().length());
      o.put("scored", run.trace().length() - run.warmup());
      o.put("policy", run.policy());
      for (Metric m : Metric.values()) {
        put(o, m.label(), run.metric(m), m.type() == Metric.Type.COUNT);
      }
    }
    Summary s = result.summary();
    ObjectNode summary = root.putObject("summary");
    summary.put("traces", s.traces());
    ObjectNode medians = summary.putObject("median_slack_at_budget");
    for (Map.Entry<String, Double> e : s.medianSlackAtBudget().entrySet()) {
      put(medians, e.getKey(), e.getValue(), false);
    }
    ObjectNode gaps = summary.putObject("median_oracle_gap");
    for (Map.Entry<String, Double> e : s.medianOracleGap().entrySet()) {
      put(gaps, e.getKey(), e.getValue(), false);
    }
    ObjectNode seconds = summary.putObject("seconds");
    for (Map.Entry<String, Double> e : s.seconds().entrySet()) {
      put(seconds, e.getKey(), e.getValue(), false);
    }
    put(summary, "penumbra_win_share", s.penumbraWinShare(), false);
    put(summary, "penumbra_to_best_baseline_median_ratio", s.medianRatioToBestBaseline(), false);
    MAPPER.writeValue(new NonClosing(out), root);
    out.write('\n');
    out.flush();
  }

  private static void put(ObjectNode o, String field, double v, boolean whole) {
    if (!Double.isFinite(v)) {
      o.putNull(field);
    } else if (whole) {
      o.put(field, Math.round(v));
    } else {
      o.put(field, v);
    }
  }

  /** Jackson closes the writer it is given; the caller owns it. */
  private static final class NonClosing extends java.io.FilterWriter {
    NonClosing(Writer out) {
      super(out);
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }
}
