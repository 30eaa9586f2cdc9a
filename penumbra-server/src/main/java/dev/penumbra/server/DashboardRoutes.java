package dev.penumbra.server;

import dev.penumbra.core.feedback.ErrorStats;
import dev.penumbra.core.loop.LoopStats;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The dashboard page at {@code /} and what it and other readers poll: {@code /v1/dashboard}, {@code /v1/forecasts}
 * (predicted / reserved / actual / baseline per capability) and {@code /v1/errors} (error statistics per model).
 */
final class DashboardRoutes {
  private final PenumbraServer server;

  private DashboardRoutes(PenumbraServer server) {
    this.server = server;
  }

  /** One sample of a timeline as the API writes it. */
  record Point(long time, String label, double predicted, double reserved, double actual, double baseline) {}

  /** A capability's timeline: its last samples and the summary over all of them. */
  record TimelineJson(String dimension, String unit, Timeline.Summary summary, List<Point> samples) {}

  /** One control loop's baseline guard: which rule acts and the running cost of each. */
  record LoopJson(String loop, String baseline, String acting, double penumbraCost, double baselineCost,
      long switches, long scored) {}

  /** A capability on the dashboard: its timeline, its state and its loops. */
  record CapabilityJson(String dimension, String unit, Timeline.Summary summary, List<Point> samples, boolean ready,
      int queued, int inFlight, double shadowOverhead, double shadowOverheadRecent, List<LoopJson> loops) {}

  /** {@code GET /v1/dashboard}. */
  record Dashboard(long time, boolean ready, List<LedgerJson.Node> nodes, int liveReservations,
      Map<String, CapabilityJson> capabilities) {}

  static void register(Api a, PenumbraServer server) {
    DashboardRoutes d = new DashboardRoutes(server);
    a.get("/", ctx -> ctx.contentType("text/html; charset=utf-8").result(StatusRoutes.resource("web/index.html")));
    a.get("/v1/errors", ctx -> {
      Map<String, List<ErrorStats>> n = new LinkedHashMap<>();
      for (Capability c : server.capabilities()) {
        n.put(c.name(), c.view().errors().all());
      }
      ctx.json(n);
    });
    a.get("/v1/forecasts", ctx -> {
      Map<String, TimelineJson> n = new LinkedHashMap<>();
      for (Capability c : server.capabilities()) {
        n.put(c.name(), timeline(c.view().timeline(), 200));
      }
      ctx.json(n);
    });
    a.get("/v1/dashboard", ctx -> ctx.json(d.dashboard()));
  }

  private Dashboard dashboard() {
    Map<String, CapabilityJson> caps = new LinkedHashMap<>();
    for (Capability c : server.capabilities()) {
      LoopView v = c.view();
      TimelineJson t = timeline(v.timeline(), 120);
      List<LoopJson> loops = v.loops().stream().map(DashboardRoutes::loop).toList();
      caps.put(c.name(), new CapabilityJson(t.dimension(), t.unit(), t.summary(), t.samples(), v.ready(), v.queued(),
          v.inFlight(), v.shadowOverhead(), v.shadowOverheadRecent(), loops));
    }
    return new Dashboard(System.currentTimeMillis(), server.ready(),
        server.ledger().nodes().stream().map(LedgerJson.Node::of).toList(),
        server.ledger().snapshot().reservations().size(), caps);
  }

  static LoopJson loop(LoopStats ls) {
    return new LoopJson(ls.loop(), ls.guard().baseline(), ls.guard().acting().label(), ls.guard().penumbraCost(),
        ls.guard().baselineCost(), ls.guard().switches(), ls.guard().scored());
  }

  static TimelineJson timeline(Timeline t, int last) {
    List<Timeline.Sample> all = t.samples();
    List<Point> points = all.subList(Math.max(0, all.size() - last), all.size()).stream()
        .map(x -> new Point(x.timeMillis(), x.label(), x.predicted(), x.reserved(), x.actual(), x.baseline()))
        .toList();
    return new TimelineJson(t.dimension(), t.unit(), t.summary(), points);
  }
}
