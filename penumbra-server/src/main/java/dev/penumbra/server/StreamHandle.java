package dev.penumbra.server;

import com.fasterxml.jackson.annotation.JsonInclude;
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
import java.util.ArrayList;
import java.util.List;
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

  /** One partition's counters in {@code GET /v1/streams}. */
  record PartitionJson(int partition, int workers, long submitted, long processed, long backlog, long sampled) {}

  /** The stream as {@code GET /v1/streams} lists it. */
  record Description(String name, int partitions, double sampleRate, long created,
      List<PartitionJson> partitionStats) {}

  /** The stream loop's baseline guard. */
  record Guard(String acting, String baseline, double penumbraCost, double baselineCost, long switches) {}

  /** One horizon of a partition's plan. */
  record HorizonJson(String horizon, double ratePoint, double rateUpper, int workers, LedgerJson.Amount resources) {}

  /**
   * One partition of {@code GET /v1/streams/{name}/plan}: {@code plannedWorkers} is null before the first plan,
   * and the plan's own fields are absent then; the baseline and the reservation only when there is one.
   */
  record PartitionPlanJson(int partition, int workers, long backlog, Integer plannedWorkers,
      @JsonInclude(JsonInclude.Include.NON_NULL) String model,
      @JsonInclude(JsonInclude.Include.NON_NULL) Boolean lowConfidence,
      @JsonInclude(JsonInclude.Include.NON_NULL) Double costSecondsPerRecord,
      @JsonInclude(JsonInclude.Include.NON_NULL) List<HorizonJson> horizons,
      @JsonInclude(JsonInclude.Include.NON_NULL) Long baselineCpuMillis,
      @JsonInclude(JsonInclude.Include.NON_NULL) LedgerJson.Res reservation) {}

  /** {@code GET /v1/streams/{name}/plan}. */
  record PlanJson(String stream, String interval, long scalings, long shortfalls, Guard guard, double reservedPerUsed,
      double shadowShare, double shadowBudget, List<PartitionPlanJson> partitions) {}

  Description describe() {
    List<PartitionJson> parts = new ArrayList<>();
    for (int p = 0; p < stream.partitions(); p++) {
      PartitionStats st = stream.stats(p);
      parts.add(new PartitionJson(p, st.workers(), st.submitted(), st.processed(), st.backlog(), st.sampled()));
    }
    return new Description(name, stream.partitions(), sampleRate, created, parts);
  }

  /** The stream's last plan, its loop's guard and reservations, as {@code GET /v1/streams/{name}/plan} shows it. */
  PlanJson plan(Map<Integer, PartitionPlan> plans, Duration interval) {
    LoopStats ls = controller.stats();
    Guard guard = new Guard(ls.guard().acting().label(), ls.guard().baseline(), ls.guard().penumbraCost(),
        ls.guard().baselineCost(), ls.guard().switches());
    List<PartitionPlanJson> parts = new ArrayList<>();
    for (int p = 0; p < stream.partitions(); p++) {
      PartitionPlan plan = plans.get(p);
      Long baselineCpu = controller.baselineSize(p).map(Resources::cpuMillis).orElse(null);
      LedgerJson.Res reservation = controller.reserved(p).map(LedgerJson.Res::of).orElse(null);
      if (plan == null) {
        parts.add(new PartitionPlanJson(p, stream.workers(p), stream.backlog(p), null, null, null, null, null,
            baselineCpu, reservation));
        continue;
      }
      List<HorizonJson> hs = plan.horizons().stream().map(hp -> new HorizonJson(hp.horizon().toString(),
          hp.ratePoint(), hp.rateUpper(), hp.workers(), LedgerJson.Amount.of(hp.resources()))).toList();
      parts.add(new PartitionPlanJson(p, stream.workers(p), stream.backlog(p), plan.workers(), plan.model(),
          plan.lowConfidence(), plan.costSecondsPerRecord(), hs, baselineCpu, reservation));
    }
    return new PlanJson(name, interval.toString(), controller.scalings(), controller.shortfalls(), guard,
        ls.cpuReservedPerUsed(), controller.shadowShare(), controller.shadowBudget(), parts);
  }
}
