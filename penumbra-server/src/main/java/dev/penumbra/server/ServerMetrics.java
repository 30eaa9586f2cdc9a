package dev.penumbra.server;

import dev.penumbra.core.Priority;
import dev.penumbra.core.feedback.ErrorStats;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Reservation;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The server's Prometheus meters: reservations by state and priority, utilisation per node and dimension,
 * prediction error per capability and model, queue lengths and shadow overhead.
 */
final class ServerMetrics {
  private ServerMetrics() {}

  /** Registers the meters; the returned refresher updates the per-model rows (call it before a scrape). */
  static Runnable bind(MeterRegistry registry, Ledger ledger, List<Capability> capabilities) {
    List<Runnable> refreshers = new ArrayList<>();
    // Live states are read from the ledger at scrape time; ended ones are counted as they happen.
    for (Priority p : Priority.values()) {
      for (Reservation.State s : List.of(Reservation.State.WARM, Reservation.State.ACTIVE)) {
        Gauge.builder("penumbra.reservations", ledger, l -> l.snapshot().reservations().stream()
                .filter(r -> r.state() == s && r.priority() == p).count())
            .description("Live reservations by state and priority")
            .tags("state", s.name().toLowerCase(Locale.ROOT), "priority", p.label()).register(registry);
      }
    }
    ledger.subscribe(e -> {
      if (e.after() != null && !e.after().isLive() && (e.before() == null || e.before().isLive())) {
        Counter.builder("penumbra.reservations.ended")
            .description("Reservations that ended, by final state and priority")
            .tags("state", e.after().state().name().toLowerCase(Locale.ROOT), "priority", e.after().priority().label())
            .register(registry).increment();
      }
    });
    for (NodeView n : ledger.nodes()) {
      Gauge.builder("penumbra.node.utilisation", ledger, l -> share(l, n.id(), true))
          .description("Reserved share of a node's capacity").tags("node", n.id(), "dimension", "cpu")
          .register(registry);
      Gauge.builder("penumbra.node.utilisation", ledger, l -> share(l, n.id(), false))
          .description("Reserved share of a node's capacity").tags("node", n.id(), "dimension", "memory")
          .register(registry);
    }
    for (Capability c : capabilities) {
      Gauge.builder("penumbra.queue.length", c.view(), LoopView::queued)
          .description("Work waiting for a reservation").tags("capability", c.name()).register(registry);
      Gauge.builder("penumbra.inflight", c.view(), LoopView::inFlight)
          .description("Work admitted and not finished").tags("capability", c.name()).register(registry);
      Gauge.builder("penumbra.shadow.overhead.ratio", c.view(), LoopView::shadowOverhead)
          .description("Shadow time / primary time").tags("capability", c.name()).register(registry);
      MultiGauge mape = MultiGauge.builder("penumbra.prediction.error.mape")
          .description("Mean absolute percentage error of the point prediction, per model").register(registry);
      MultiGauge exceed = MultiGauge.builder("penumbra.prediction.error.exceedance")
          .description("Share of predictions whose reserved upper bound was below the actual").register(registry);
      MultiGauge qerr = MultiGauge.builder("penumbra.prediction.error.qerror.median")
          .description("Median q-error of the point prediction, per model").register(registry);
      // The models appear as predictions are scored, so the rows are refreshed before every scrape.
      Capability cap = c;
      refreshers.add(() -> {
        List<ErrorStats> all = cap.view().errors().all();
        List<MultiGauge.Row<?>> m = new ArrayList<>();
        List<MultiGauge.Row<?>> x = new ArrayList<>();
        List<MultiGauge.Row<?>> q = new ArrayList<>();
        for (ErrorStats s : all) {
          Tags t = Tags.of("capability", cap.name(), "model", s.model());
          m.add(MultiGauge.Row.of(t, s.mape()));
          x.add(MultiGauge.Row.of(t, s.exceedanceRate()));
          q.add(MultiGauge.Row.of(t, s.qErrorMedian()));
        }
        mape.register(m, true);
        exceed.register(x, true);
        qerr.register(q, true);
      });
    }
    return () -> refreshers.forEach(Runnable::run);
  }

  private static double share(Ledger l, String node, boolean cpu) {
    for (NodeView v : l.nodes()) {
      if (v.id().equals(node)) {
        return cpu ? LedgerJson.share(v.used().cpuMillis(), v.capacity().cpuMillis())
            : LedgerJson.share(v.used().memoryBytes(), v.capacity().memoryBytes());
      }
    }
    return Double.NaN;
  }
}
