package dev.penumbra.cli;

import dev.penumbra.eval.trace.Trace;
import dev.penumbra.eval.trace.TraceReaders;
import dev.penumbra.eval.stream.StreamBenchmark;
import dev.penumbra.eval.stream.StreamHtml;
import dev.penumbra.eval.stream.StreamBenchmark.Options;
import dev.penumbra.eval.stream.StreamBenchmark.RateSeries;
import dev.penumbra.eval.stream.StreamReport;
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
import picocli.CommandLine.Mixin;
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
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--data", paramLabel = "DIR", defaultValue = "../shared/data",
      description = "Default: ${DEFAULT-VALUE}. The directory holding the data sets (for the default traces).")
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

  @Option(names = "--loads", paramLabel = "L,L,...", defaultValue = "0.25,0.5,1,1.5", split = ",", hideParamSyntax = true,
      description = "Load levels: each trace's peak rate as a multiple of what --peak-workers serve (light to "
          + "overload). Default: ${DEFAULT-VALUE}.")
  List<Double> loads;

  @Option(names = "--html", paramLabel = "FILE",
      description = "Also write the sweep as an HTML page with plots of latency and cost against load.")
  Path html;

  @Mixin
  OutputFormat output;

  @Override
  public Integer call() throws Exception {
    OptionChecks.positive(spec, "--speedup", speedup);
    OptionChecks.positive(spec, "--duration", duration);
    if (!(warmup >= 0 && warmup < duration)) {
      throw OptionChecks.invalid(spec, "--warmup", OptionChecks.shown(warmup), "must be >= 0 and below --duration " + OptionChecks.shown(duration));
    }
    OptionChecks.atLeast(spec, "--peak-workers", peakWorkers, 1);
    if (peakRate != null) {
      OptionChecks.positive(spec, "--peak-rate", peakRate);
    }
    OptionChecks.positive(spec, "--cost-us", costMicros);
    if (!(startDelay >= 0 && Double.isFinite(startDelay))) {
      throw OptionChecks.invalid(spec, "--start-delay", OptionChecks.shown(startDelay), "must be >= 0");
    }
    if (!(sampleRate > 0 && sampleRate <= 1)) {
      throw OptionChecks.invalid(spec, "--sample-rate", OptionChecks.shown(sampleRate), "must be in (0, 1]");
    }
    OptionChecks.atLeast(spec, "--overhead-rounds", overheadRounds, 0);
    for (Double l : loads) {
      if (l == null || !(l > 0 && Double.isFinite(l))) {
        throw OptionChecks.invalid(spec, "--loads", String.valueOf(l), "each load level must be > 0");
      }
    }
    List<Path> files = new ArrayList<>();
    if (rates == null || rates.isEmpty()) {
      for (String r : DEFAULT_RATES) {
        Path p = data.resolve(r);
        if (!Files.isRegularFile(p)) {
          throw OptionChecks.invalid(spec, "--data", data.toString(), "has no " + r + "; point --data at the shared data or give --rates");
        }
        files.add(p);
      }
    } else {
      for (Path p : rates) {
        if (!Files.isRegularFile(p)) {
          throw OptionChecks.invalid(spec, "--rates", p.toString(), "no such file");
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
        throw OptionChecks.invalid(spec, rates == null ? "--data" : "--rates", f.toString(), "cannot read: " + e.getMessage());
      }
      if (traces.isEmpty()) {
        throw OptionChecks.invalid(spec, "--rates", f.toString(), "holds no series");
      }
      Trace t = traces.get(0);
      String name = f.getFileName().toString().replaceFirst("\\.csv$", "");
      try {
        series.add(new RateSeries(name, t.stepMillis(), t.values()));
      } catch (IllegalArgumentException e) {
        throw OptionChecks.invalid(spec, "--rates", f.toString(), e.getMessage());
      }
      err.printf(Locale.ROOT, "bench: read %s: %d values at %d s%n", f, t.length(), t.stepMillis() / 1000);
    }
    Options o = new Options(series, speedup, duration, warmup, peakWorkers,
        peakRate == null ? Double.NaN : peakRate, costMicros, startDelay, sampleRate, seed, overheadRounds);
    List<StreamBenchmark.Level> levels = StreamBenchmark.sweep(o, loads, err::println);
    if (html != null) {
      try (java.io.Writer w = Files.newBufferedWriter(html)) {
        StreamHtml.write(levels, w);
      } catch (IOException e) {
        throw OptionChecks.invalid(spec, "--html", html.toString(), "cannot write: " + e.getMessage());
      }
      err.println("bench: wrote " + html);
    }
    new StreamReport(levels).print(output.value(), System.out);
    return 0;
  }
}
