package dev.penumbra.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.eval.trace.Trace;
import dev.penumbra.eval.trace.TraceReaders;
import dev.penumbra.stream.bench.StreamBenchmark;
import dev.penumbra.stream.bench.StreamBenchmark.Options;
import dev.penumbra.stream.bench.StreamBenchmark.PartitionInfo;
import dev.penumbra.stream.bench.StreamBenchmark.RateSeries;
import dev.penumbra.stream.bench.StreamBenchmark.Result;
import dev.penumbra.stream.bench.StreamBenchmark.ScalerResult;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code penumbra bench stream}: replays arrival-rate traces (one per partition) and compares Penumbra's
 * predictive scaling with a reactive scaler and static provisioning, then measures the shadow's overhead.
 */
@Command(
    name = "stream",
    mixinStandardHelpOptions = true,
    description =
      "Replays arrival-rate traces (default NAB nyc_taxi and Twitter_volume_GOOG, one per partition) and compares "
      + "penumbra's predictive scaling with a reactive scaler (Flink autoscaler / DS2 style) and static provisioning "
      + "at the mean and the peak; then measures the shadow's overhead on the primary's throughput.")
final class BenchStreamCommand implements Callable<Integer> {

  static final List<String> DEFAULT_RATES =
      List.of("nab/data/realKnownCause/nyc_taxi.csv", "nab/data/realTweets/Twitter_volume_GOOG.csv");
  /** p99 latency at most this share of the reactive scaler's. */
  static final double TARGET_P99_RATIO = 0.5;
  /** Shadow overhead on primary throughput at most this. */
  static final double TARGET_OVERHEAD = 0.02;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--data", paramLabel = "DIR", defaultValue = "../shared/data",
      description = "Directory holding the data sets (for the default traces). Default: ${DEFAULT-VALUE}.")
  Path data;

  @Option(names = "--rates", paramLabel = "FILE", description = "A rate trace (NAB format timestamp,value), "
      + "one partition each; repeat for more. Default: nyc_taxi and Twitter_volume_GOOG from --data.")
  List<Path> rates;

  @Option(names = "--speedup", paramLabel = "X", defaultValue = "3600",
      description = "Trace time per run time. Default: ${DEFAULT-VALUE} (an hour of trace per second).")
  double speedup;

  @Option(names = "--duration", paramLabel = "SECONDS", defaultValue = "360",
      description = "Run time replayed. Default: ${DEFAULT-VALUE}.")
  double duration;

  @Option(names = "--warmup", paramLabel = "SECONDS", defaultValue = "48",
      description = "First run seconds not scored (models learn). Default: ${DEFAULT-VALUE}.")
  double warmup;

  @Option(names = "--peak-workers", paramLabel = "N", defaultValue = "8",
      description = "Workers the peak of each trace needs. Default: ${DEFAULT-VALUE}.")
  int peakWorkers;

  @Option(names = "--peak-rate", paramLabel = "RECORDS_PER_S",
      description = "Records per second at each trace's peak (overrides --peak-workers).")
  Double peakRate;

  @Option(names = "--cost-us", paramLabel = "MICROS", defaultValue = "1000",
      description = "CPU per record of weight 1 (weights 0.5..1.5). Default: ${DEFAULT-VALUE}.")
  double costMicros;

  @Option(names = "--start-delay", paramLabel = "SECONDS", defaultValue = "3",
      description = "Run time before a new worker takes records, for every scaler. Default: ${DEFAULT-VALUE}.")
  double startDelay;

  @Option(names = "--sample-rate", paramLabel = "SHARE", defaultValue = "0.01",
      description = "The shadow's sample, in (0, 1]. Default: ${DEFAULT-VALUE}.")
  double sampleRate;

  @Option(names = "--overhead-rounds", paramLabel = "N", defaultValue = "40",
      description = "Pairs of runs without / with the shadow for the overhead (0 skips). Default: ${DEFAULT-VALUE}.")
  int overheadRounds;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Arrival seed. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--format", paramLabel = "table|json", defaultValue = "table",
      description = "Output on stdout. Default: ${DEFAULT-VALUE}.")
  String format;

  @Override
  public Integer call() throws Exception {
    if (!List.of("table", "json").contains(format)) {
      throw invalid("--format", format, "not one of table, json");
    }
    positive("--speedup", speedup);
    positive("--duration", duration);
    if (!(warmup >= 0 && warmup < duration)) {
      throw invalid("--warmup", fmt(warmup), "must be >= 0 and below --duration " + fmt(duration));
    }
    if (peakWorkers < 1) {
      throw invalid("--peak-workers", Integer.toString(peakWorkers), "must be >= 1");
    }
    if (peakRate != null) {
      positive("--peak-rate", peakRate);
    }
    positive("--cost-us", costMicros);
    if (!(startDelay >= 0 && Double.isFinite(startDelay))) {
      throw invalid("--start-delay", fmt(startDelay), "must be >= 0");
    }
    if (!(sampleRate > 0 && sampleRate <= 1)) {
      throw invalid("--sample-rate", fmt(sampleRate), "must be in (0, 1]");
    }
    if (overheadRounds < 0) {
      throw invalid("--overhead-rounds", Integer.toString(overheadRounds), "must be >= 0");
    }
    List<Path> files = new ArrayList<>();
    if (rates == null || rates.isEmpty()) {
      for (String r : DEFAULT_RATES) {
        Path p = data.resolve(r);
        if (!Files.isRegularFile(p)) {
          throw invalid("--data", data.toString(), "has no " + r + "; point --data at the shared data or give --rates");
        }
        files.add(p);
      }
    } else {
      for (Path p : rates) {
        if (!Files.isRegularFile(p)) {
          throw invalid("--rates", p.toString(), "no such file");
        }
        files.add(p);
      }
    }
    PrintStream err = System.err;
    List<RateSeries> series = new ArrayList<>();
    for (Path f : files) {
      List<Trace> traces;
      try {
        traces = TraceReaders.read(f);
      } catch (IOException | IllegalArgumentException e) {
        throw invalid(rates == null ? "--data" : "--rates", f.toString(), "cannot read: " + e.getMessage());
      }
      if (traces.isEmpty()) {
        throw invalid("--rates", f.toString(), "holds no series");
      }
      Trace t = traces.get(0);
      String name = f.getFileName().toString().replaceFirst("\\.csv$", "");
      try {
        series.add(new RateSeries(name, t.stepMillis(), t.values()));
      } catch (IllegalArgumentException e) {
        throw invalid("--rates", f.toString(), e.getMessage());
      }
      err.printf(Locale.ROOT, "bench: read %s: %d values at %d s%n", f, t.length(), t.stepMillis() / 1000);
    }
    Options o = new Options(series, speedup, duration, warmup, peakWorkers,
        peakRate == null ? Double.NaN : peakRate, costMicros, startDelay, sampleRate, seed, overheadRounds);
    Result r = StreamBenchmark.run(o, err::println);
    if (format.equals("json")) {
      writeJson(r);
    } else {
      writeTable(r);
    }
    return 0;
  }

  private void writeTable(Result r) {
    PrintStream out = System.out;
    Options o = r.options();
    out.printf(Locale.ROOT, "Stream scaling benchmark: %d partitions, speedup %s, %s s replayed (%s s warm-up), "
        + "cost %s us/record, start delay %s s, shadow %s%n%n", r.partitions().size(), fmt(o.speedup()),
        fmt(o.durationSeconds()), fmt(o.warmupSeconds()), fmt(o.costMicros()), fmt(o.startDelaySeconds()),
        pct(o.samplingRate()));
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"partition", "steps", "mean rec/s", "peak rec/s", "offset", "mean workers", "peak workers"});
    for (PartitionInfo p : r.partitions()) {
      rows.add(new String[] {p.name(), Integer.toString(p.steps()), fmt1(p.meanRate()), fmt1(p.peakRate()),
          fmt1(p.offset()), Integer.toString(p.meanWorkers()), Integer.toString(p.peakWorkers())});
    }
    out.print(BenchReplayCommand.aligned(rows));
    out.println();
    rows = new ArrayList<>();
    rows.add(new String[] {"scaler", "records", "p50 ms", "p99 ms", "max backlog", "worker-s", "scalings", "lost"});
    for (ScalerResult s : r.scalers()) {
      rows.add(new String[] {s.name(), Long.toString(s.records()), fmt1(s.p50Millis()), fmt1(s.p99Millis()),
          Long.toString(s.maxBacklog()), fmt1(s.workerSeconds()), Long.toString(s.scalingActions()),
          Long.toString(s.lost())});
    }
    out.print(BenchReplayCommand.aligned(rows));
    out.println();
    out.printf(Locale.ROOT, "shadow: %d records sampled, %d dropped, measured %.1f us CPU/record%n",
        r.shadowSampled(), r.shadowDropped(), r.measuredCostMicros());
    if (r.overhead() != null) {
      StreamBenchmark.Overhead oh = r.overhead();
      out.printf(Locale.ROOT, "shadow overhead at %s: %.0f rec/s without, %.0f rec/s with (%s)%n",
          pct(oh.samplingRate()), oh.baselineRecordsPerSecond(), oh.shadowRecordsPerSecond(), pct(oh.overhead()));
    }
    ScalerResult pen = r.scaler(StreamBenchmark.PENUMBRA);
    ScalerResult rea = r.scaler(StreamBenchmark.REACTIVE);
    double ratio = pen.p99Millis() / rea.p99Millis();
    out.printf(Locale.ROOT, "target: penumbra p99 <= %.0f%% of reactive's: %s (%s)%n", TARGET_P99_RATIO * 100,
        pct(ratio), ratio <= TARGET_P99_RATIO ? "met" : "not met");
    out.printf(Locale.ROOT, "target: penumbra worker-seconds <= reactive's: %s vs %s (%s)%n",
        fmt1(pen.workerSeconds()), fmt1(rea.workerSeconds()),
        pen.workerSeconds() <= rea.workerSeconds() ? "met" : "not met");
    long lost = r.scalers().stream().mapToLong(ScalerResult::lost).sum();
    out.printf(Locale.ROOT, "target: no record lost: %d (%s)%n", lost, lost == 0 ? "met" : "not met");
    if (r.overhead() != null) {
      out.printf(Locale.ROOT, "target: shadow overhead <= %s: %s (%s)%n", pct(TARGET_OVERHEAD),
          pct(r.overhead().overhead()), r.overhead().overhead() <= TARGET_OVERHEAD ? "met" : "not met");
    }
    out.printf(Locale.ROOT, "wall time: %.1f s%n", r.wallSeconds());
    out.flush();
  }

  private void writeJson(Result r) throws IOException {
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = mapper.createObjectNode();
    Options o = r.options();
    ObjectNode opts = root.putObject("options");
    opts.put("speedup", o.speedup());
    opts.put("duration_seconds", o.durationSeconds());
    opts.put("warmup_seconds", o.warmupSeconds());
    opts.put("peak_workers", o.peakWorkers());
    put(opts, "peak_rate", o.peakRate());
    opts.put("cost_micros", o.costMicros());
    opts.put("start_delay_seconds", o.startDelaySeconds());
    opts.put("sampling_rate", o.samplingRate());
    opts.put("seed", o.seed());
    ArrayNode parts = root.putArray("partitions");
    for (PartitionInfo p : r.partitions()) {
      ObjectNode n = parts.addObject();
      n.put("name", p.name());
      n.put("steps", p.steps());
      n.put("mean_rate", p.meanRate());
      n.put("peak_rate", p.peakRate());
      n.put("offset", p.offset());
      n.put("mean_workers", p.meanWorkers());
      n.put("peak_workers", p.peakWorkers());
    }
    ObjectNode scalers = root.putObject("scalers");
    for (ScalerResult s : r.scalers()) {
      ObjectNode n = scalers.putObject(s.name());
      n.put("records", s.records());
      put(n, "p50_ms", s.p50Millis());
      put(n, "p99_ms", s.p99Millis());
      n.put("max_backlog", s.maxBacklog());
      n.put("worker_seconds", s.workerSeconds());
      n.put("scaling_actions", s.scalingActions());
      n.put("records_lost", s.lost());
    }
    ObjectNode shadow = root.putObject("shadow");
    shadow.put("sampled", r.shadowSampled());
    shadow.put("dropped", r.shadowDropped());
    put(shadow, "measured_cost_micros", r.measuredCostMicros());
    if (r.overhead() != null) {
      shadow.put("baseline_records_per_second", r.overhead().baselineRecordsPerSecond());
      shadow.put("with_shadow_records_per_second", r.overhead().shadowRecordsPerSecond());
      shadow.put("overhead", r.overhead().overhead());
    }
    ScalerResult pen = r.scaler(StreamBenchmark.PENUMBRA);
    ScalerResult rea = r.scaler(StreamBenchmark.REACTIVE);
    ObjectNode targets = root.putObject("targets");
    double ratio = pen.p99Millis() / rea.p99Millis();
    ObjectNode t1 = targets.putObject("p99_ratio_to_reactive");
    t1.put("target", TARGET_P99_RATIO);
    put(t1, "value", ratio);
    t1.put("met", ratio <= TARGET_P99_RATIO);
    ObjectNode t2 = targets.putObject("worker_seconds_vs_reactive");
    t2.put("target", rea.workerSeconds());
    t2.put("value", pen.workerSeconds());
    t2.put("met", pen.workerSeconds() <= rea.workerSeconds());
    long lost = r.scalers().stream().mapToLong(ScalerResult::lost).sum();
    ObjectNode t3 = targets.putObject("records_lost");
    t3.put("target", 0);
    t3.put("value", lost);
    t3.put("met", lost == 0);
    if (r.overhead() != null) {
      ObjectNode t4 = targets.putObject("shadow_overhead");
      t4.put("target", TARGET_OVERHEAD);
      t4.put("value", r.overhead().overhead());
      t4.put("met", r.overhead().overhead() <= TARGET_OVERHEAD);
    }
    root.put("wall_seconds", r.wallSeconds());
    System.out.println(mapper.writeValueAsString(root));
    System.out.flush();
  }

  private static void put(ObjectNode o, String field, double v) {
    if (Double.isFinite(v)) {
      o.put(field, v);
    } else {
      o.putNull(field);
    }
  }

  private void positive(String option, double v) {
    if (!(v > 0 && Double.isFinite(v))) {
      throw invalid(option, fmt(v), "must be > 0");
    }
  }

  private static String fmt(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }

  private static String fmt1(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  private static String pct(double v) {
    return String.format(Locale.ROOT, "%.1f%%", v * 100);
  }

  private ParameterException invalid(String option, String value, String why) {
    return new ParameterException(spec.commandLine(),
        String.format(Locale.ROOT, "Invalid value for option '%s': '%s' (%s)", option, value, why));
  }
}
