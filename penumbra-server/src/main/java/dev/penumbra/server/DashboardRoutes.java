package dev.penumbra.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.core.loop.LoopStats;
import java.util.List;

/**
 * The dashboard page at {@code /} and what it and other readers poll: {@code /v1/dashboard}, {@code /v1/forecasts}
 * (predicted / reserved / actual / baseline per capability) and {@code /v1/errors} (error statistics per model).
 */
final class DashboardRoutes {
  private final PenumbraServer server;

  private DashboardRoutes(PenumbraServer server) {
    this.server = server;
  }

  static void register(Api a, PenumbraServer server) {
    DashboardRoutes d = new DashboardRoutes(server);
    a.get("/", ctx -> ctx.contentType("text/html; charset=utf-8").result(StatusRoutes.resource("web/index.html")));
    a.get("/v1/errors", ctx -> {
      ObjectNode n = Json.MAPPER.createObjectNode();
      for (Capability c : server.capabilities()) {
        ArrayNode arr = n.putArray(c.name());
        c.view().errors().all().forEach(s -> arr.add(Json.errorStats(s)));
      }
      ctx.json(n);
    });
    a.get("/v1/forecasts", ctx -> {
      ObjectNode n = Json.MAPPER.createObjectNode();
      for (Capability c : server.capabilities()) {
        n.set(c.name(), timeline(c.view().timeline(), 200));
      }
      ctx.json(n);
    });
    a.get("/v1/dashboard", ctx -> ctx.json(d.dashboard()));
  }

  private ObjectNode dashboard() {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("time", System.currentTimeMillis());
    n.put("ready", server.ready());
    ArrayNode nodes = n.putArray("nodes");
    server.ledger().nodes().forEach(v -> nodes.add(Json.node(v)));
    n.put("liveReservations", server.ledger().snapshot().reservations().size());
    ObjectNode caps = n.putObject("capabilities");
    for (Capability c : server.capabilities()) {
      ObjectNode o = timeline(c.view().timeline(), 120);
      o.put("ready", c.view().ready());
      o.put("queued", c.view().queued());
      o.put("inFlight", c.view().inFlight());
      Json.num(o, "shadowOverhead", c.view().shadowOverhead());
      ArrayNode loops = o.putArray("loops");
      for (LoopStats ls : c.view().loops()) {
        ObjectNode l = loops.addObject();
        l.put("loop", ls.loop());
        l.put("baseline", ls.guard().baseline());
        l.put("acting", ls.guard().acting().label());
        Json.num(l, "penumbraCost", ls.guard().penumbraCost());
        Json.num(l, "baselineCost", ls.guard().baselineCost());
        l.put("switches", ls.guard().switches());
        l.put("scored", ls.guard().scored());
      }
      caps.set(c.name(), o);
    }
    return n;
  }

  static ObjectNode timeline(Timeline t, int last) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("dimension", t.dimension());
    o.put("unit", t.unit());
    Timeline.Summary s = t.summary();
    ObjectNode sum = o.putObject("summary");
    sum.put("samples", s.samples());
    Json.num(sum, "reservedPerActual", s.reservedPerActual());
    Json.num(sum, "baselinePerActual", s.baselinePerActual());
    Json.num(sum, "underReservedShare", s.underReservedShare());
    Json.num(sum, "baselineUnderShare", s.baselineUnderShare());
    ArrayNode arr = o.putArray("samples");
    List<Timeline.Sample> all = t.samples();
    for (Timeline.Sample x : all.subList(Math.max(0, all.size() - last), all.size())) {
      ObjectNode p = arr.addObject();
      p.put("time", x.timeMillis());
      p.put("label", x.label());
      p.put("predicted", x.predicted());
      p.put("reserved", x.reserved());
      p.put("actual", x.actual());
      p.put("baseline", x.baseline());
    }
    return o;
  }
}
