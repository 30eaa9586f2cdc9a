package dev.penumbra.eval.report;

import dev.penumbra.eval.replay.Metric;
import dev.penumbra.eval.replay.PolicyRun;
import dev.penumbra.eval.replay.ReplayResult;
import dev.penumbra.eval.replay.Summary;
import dev.penumbra.server.Json;
import java.io.IOException;
import java.io.Writer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One JSON document: {@code {"lead", "budget", "runs": [one object per (trace, policy)], "summary"}}. Each run
 * object has trace, resource, unit, intervals, scored, policy and every metric by its camelCase key
 * ({@code slackAtBudget}); undefined values (budget unreachable) are null.
 */
final class JsonReporter implements Reporter {

  /** The document; a run is a map because its metric keys come from {@link Metric}. */
  record Document(int lead, double budget, List<Map<String, Object>> runs, SummaryJson summary) {}

  record SummaryJson(int traces, Map<String, Double> medianSlackAtBudget, Map<String, Double> medianOracleGap,
      Map<String, Double> seconds, double penumbraWinShare, double penumbraToBestBaselineMedianRatio) {}

  @Override
  public void write(ReplayResult result, Writer out) throws IOException {
    List<Map<String, Object>> runs = result.runs().stream().map(JsonReporter::run).toList();
    Summary s = result.summary();
    SummaryJson summary = new SummaryJson(s.traces(), s.medianSlackAtBudget(), s.medianOracleGap(), s.seconds(),
        s.penumbraWinShare(), s.medianRatioToBestBaseline());
    out.write(Json.pretty(new Document(result.options().lead(), result.options().budget(), runs, summary)));
    out.write('\n');
    out.flush();
  }

  private static Map<String, Object> run(PolicyRun run) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("trace", run.trace().name());
    o.put("resource", run.trace().resource().label());
    o.put("unit", run.trace().unit());
    o.put("intervals", run.trace().length());
    o.put("scored", run.trace().length() - run.warmup());
    o.put("policy", run.policy());
    for (Metric m : Metric.values()) {
      double v = run.metric(m);
      o.put(Keys.camel(m.label()), m.type() == Metric.Type.COUNT && Double.isFinite(v) ? (Object) Math.round(v) : v);
    }
    return o;
  }
}
