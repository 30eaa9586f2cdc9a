package dev.penumbra.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.loop.LoopStats;
import dev.penumbra.stream.EmbeddedStream;
import dev.penumbra.stream.HorizonPlan;
import dev.penumbra.stream.PartitionPlan;
import dev.penumbra.stream.PartitionStats;
import dev.penumbra.stream.Shadow;
import dev.penumbra.stream.ShadowStats;
import dev.penumbra.stream.StreamController;
import dev.penumbra.stream.StreamRecord;
import java.time.Duration;
import java.util.Map;

/**
 * One named stream of the server: the embedded runtime, its sampled shadow and the controller (the stream's
 * control loop) that plans and reserves for it, with what one tick of it measured. Not thread-safe: the
 * {@link StreamCapability} calls it under its lock, except {@link #submit}, which the runtime makes safe.
 */
final class StreamHandle {

  /**
   * What one tick measured, in CPU cores over the interval that ended: the prediction made for it (NaN at the
   * first tick), what the partitions hold, what the workers used, what the loop's reactive rule would hold.
   */
  record Tick(double predicted, double predictedUpper, double reserved, double actual, double baseline,
      long shadowNanos, long primaryNanos) {}

  final String name;
  final double sampleRate;
  final EmbeddedStream stream;
  final Shadow shadow;
  final StreamController controller;
  final long created;
  private long lastNanos = System.nanoTime();
  private final long[] lastBusy;
  private final long[] lastShadowCpu;
  /** What the previous tick predicted for the interval now ending (NaN before the first tick). */
  private double prevPredicted = Double.NaN;
  private double prevUpper = Double.NaN;

  StreamHandle(String name, double sampleRate, long created, EmbeddedStream stream, Shadow shadow,
      StreamController controller) {
    this.name = name;
    this.created = created;
    this.sampleRate = sampleRate;
    this.stream = stream;
    this.shadow = shadow;
    this.controller = controller;
    this.lastBusy = new long[stream.partitions()];
    this.lastShadowCpu = new long[stream.partitions()];
    for (int p = 0; p < stream.partitions(); p++) {
      lastBusy[p] = stream.stats(p).busyNanos();
    }
  }

  int partitions() {
    return stream.partitions();
  }

  void submit(StreamRecord record) throws InterruptedException {
    stream.submit(record);
  }

  long backlog() {
    long b = 0;
    for (int p = 0; p < stream.partitions(); p++) {
      b += stream.backlog(p);
    }
    return b;
  }

  int workers() {
    int n = 0;
    for (int p = 0; p < stream.partitions(); p++) {
      n += stream.workers(p);
    }
    return n;
  }

  /**
   * Observes, plans, reserves and scales the stream (one step of its loop) and measures the interval that ended.
   * The baseline is the loop's own reactive rule (the one its guard scores against the forecast), sized in the
   * same millicores: a whole core per partition would be a pool nobody runs for a stream using a millicore.
   */
  Tick tick() throws InterruptedException {
    Map<Integer, PartitionPlan> plans = controller.tick();
    long now = System.nanoTime();
    double seconds = Math.max(1e-3, (now - lastNanos) / 1e9);
    lastNanos = now;
    double predicted = 0;
    double upper = 0;
    double reserved = 0;
    double actual = 0;
    double baseline = 0;
    long shadowNanos = 0;
    long primaryNanos = 0;
    for (PartitionPlan plan : plans.values()) {
      int p = plan.partition();
      HorizonPlan first = plan.horizons().get(0);
      predicted += first.ratePoint() * plan.costSecondsPerRecord();
      upper += first.rateUpper() * plan.costSecondsPerRecord();
      reserved += controller.reserved(p).map(r -> r.amount().cpuMillis() / 1000.0).orElse(0.0);
      baseline += controller.baselineSize(p).map(Resources::cpuMillis).orElse(0L) / 1000.0;
      PartitionStats st = stream.stats(p);
      long busy = st.busyNanos() - lastBusy[p];
      lastBusy[p] = st.busyNanos();
      actual += busy / 1e9 / seconds;
      ShadowStats sh = shadow.stats(p);
      shadowNanos += sh.cpuNanos() - lastShadowCpu[p];
      lastShadowCpu[p] = sh.cpuNanos();
      primaryNanos += busy;
    }
    Tick t = new Tick(plans.isEmpty() ? Double.NaN : prevPredicted, prevUpper, reserved, actual, baseline,
        shadowNanos, primaryNanos);
    prevPredicted = predicted;
    prevUpper = upper;
    return t;
  }

  /** Reservations the stream's partitions hold now. */
  int liveReservations() {
    int live = 0;
    for (int p = 0; p < stream.partitions(); p++) {
      if (controller.reserved(p).map(Reservation::isLive).orElse(false)) {
        live++;
      }
    }
    return live;
  }

  void close() {
    stream.close();
    shadow.close();
    controller.close();
  }

  /** The stream as {@code GET /v1/streams} lists it. */
  ObjectNode describe() {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("name", name);
    o.put("partitions", stream.partitions());
    o.put("sampleRate", sampleRate);
    o.put("created", created);
    ArrayNode parts = o.putArray("partitionStats");
    for (int p = 0; p < stream.partitions(); p++) {
      PartitionStats st = stream.stats(p);
      ObjectNode n = parts.addObject();
      n.put("partition", p);
      n.put("workers", st.workers());
      n.put("submitted", st.submitted());
      n.put("processed", st.processed());
      n.put("backlog", st.backlog());
      n.put("sampled", st.sampled());
    }
    return o;
  }

  /** The stream's last plan, its loop's guard and reservations, as {@code GET /v1/streams/{name}/plan} shows it. */
  ObjectNode plan(Map<Integer, PartitionPlan> plans, Duration interval) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("stream", name);
    o.put("interval", interval.toString());
    o.put("scalings", controller.scalings());
    o.put("shortfalls", controller.shortfalls());
    LoopStats ls = controller.stats();
    ObjectNode guard = o.putObject("guard");
    guard.put("acting", ls.guard().acting().label());
    guard.put("baseline", ls.guard().baseline());
    Json.num(guard, "penumbraCost", ls.guard().penumbraCost());
    Json.num(guard, "baselineCost", ls.guard().baselineCost());
    guard.put("switches", ls.guard().switches());
    Json.num(o, "reservedPerUsed", ls.cpuReservedPerUsed());
    Json.num(o, "shadowShare", controller.shadowShare());
    Json.num(o, "shadowBudget", controller.shadowBudget());
    ArrayNode arr = o.putArray("partitions");
    for (int p = 0; p < stream.partitions(); p++) {
      ObjectNode n = arr.addObject();
      n.put("partition", p);
      n.put("workers", stream.workers(p));
      n.put("backlog", stream.backlog(p));
      PartitionPlan plan = plans.get(p);
      if (plan != null) {
        n.put("plannedWorkers", plan.workers());
        n.put("model", plan.model());
        n.put("lowConfidence", plan.lowConfidence());
        Json.num(n, "costSecondsPerRecord", plan.costSecondsPerRecord());
        ArrayNode hs = n.putArray("horizons");
        for (HorizonPlan hp : plan.horizons()) {
          ObjectNode x = hs.addObject();
          x.put("horizon", hp.horizon().toString());
          Json.num(x, "ratePoint", hp.ratePoint());
          Json.num(x, "rateUpper", hp.rateUpper());
          x.put("workers", hp.workers());
          x.set("resources", Json.resources(hp.resources()));
        }
      } else {
        n.putNull("plannedWorkers");
      }
      controller.baselineSize(p).ifPresent(b -> n.put("baselineCpuMillis", b.cpuMillis()));
      controller.reserved(p).ifPresent(r -> n.set("reservation", Json.reservation(r)));
    }
    return o;
  }
}
