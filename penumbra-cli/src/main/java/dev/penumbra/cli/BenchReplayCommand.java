package dev.penumbra.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.eval.policy.Policies;
import dev.penumbra.eval.replay.Metric;
import dev.penumbra.eval.replay.Replay;
import dev.penumbra.eval.replay.ReplayOptions;
import dev.penumbra.eval.replay.ReplayResult;
import dev.penumbra.eval.replay.Summary;
import dev.penumbra.eval.report.Reporter;
import dev.penumbra.eval.trace.Trace;
import dev.penumbra.eval.trace.TraceReaders;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code penumbra bench replay}: replays the benchmark trace set with every policy at lead 1 and a 1% budget
 * and prints, overall and per dataset, each policy's median slack-at-budget and oracle gap, how often and by
 * how much penumbra beats the best baseline, whether the targets are met, and the wall time.
 */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description =
      "Replays the benchmark trace set (NAB realAWSCloudwatch CPU, Bitbrains cpu and memory, Alibaba 2018 "
      + "machines' cpu and memory, Alibaba GenAI 2026 pod memory) with every policy at lead 1 and budget 1%%.")
final class BenchReplayCommand implements Callable<Integer> {

  static final int LEAD = 1;
  static final double BUDGET = 0.01;
  /** Penumbra beats every baseline on at least this share of traces. */
  static final double TARGET_WIN_SHARE = 0.9;
  /** On the median trace penumbra's slack-at-budget is at most this multiple of the best baseline's. */
  static final double TARGET_RATIO = 0.75;
  /** The whole run, reading included. */
  static final double TARGET_SECONDS = 60;
  /**
   * Traces with fewer scored intervals than {@code 1 / budget} cannot resolve the budget: a 1% budget over
   * fewer than 100 intervals allows no violation at all, so slack-at-budget degenerates into covering the
   * single worst interval (and a 1-4 interval trace ties every policy). Such traces are replayed and shown in
   * the "every trace" column, but the targets and the per-dataset columns count only the others.
   */
  static final int MIN_SCORED = (int) Math.ceil(1 / BUDGET);
  static final String EVERY = "every trace";
  static final String RESOLVED = "resolvable";

  /** One dataset of the benchmark: where it is under the data directory and which of its traces count. */
  record Dataset(String name, String path, Dimension resource, boolean cpuFilesOnly) {}

  static final List<Dataset> DATASETS = List.of(
      new Dataset("NAB cpu", "nab/data/realAWSCloudwatch", Dimension.CPU, true),
      new Dataset("Bitbrains cpu", "bitbrains-rnd", Dimension.CPU, false),
      new Dataset("Bitbrains memory", "bitbrains-rnd", Dimension.MEMORY, false),
      new Dataset("Alibaba cpu", "alibaba-v2018-sample/machine_usage.csv", Dimension.CPU, false),
      new Dataset("Alibaba memory", "alibaba-v2018-sample/machine_usage.csv", Dimension.MEMORY, false),
      new Dataset("GenAI memory", "alibaba-genai-v2026/pod_memory_util_anon.tar.gz", Dimension.MEMORY, false));

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--data", paramLabel = "DIR", defaultValue = "../shared/data",
      description = "Directory holding the data sets. Default: ${DEFAULT-VALUE}.")
  Path data;

  @Option(names = "--format", paramLabel = "table|json", defaultValue = "table",
      description = "Output on stdout. Default: ${DEFAULT-VALUE}.")
  String format;

  @Option(names = "--report", paramLabel = "FILE", description = "Also write the HTML replay report here.")
  Path report;

  @Option(names = "--threads", paramLabel = "N", description = "Worker threads. Default: one per core.")
  Integer threads;

  @Override
  public Integer call() {
    long start = System.nanoTime();
    if (!List.of("table", "json").contains(format)) {
      throw invalid("--format", format, "not one of table, json");
    }
    int workers = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
    if (workers < 1) {
      throw invalid("--threads", Integer.toString(workers), "must be >= 1");
    }
    if (!Files.isDirectory(data)) {
      throw invalid("--data", data.toString(), "no such directory; point --data at the shared data directory");
    }
    for (Dataset d : DATASETS) {
      if (!Files.exists(data.resolve(d.path()))) {
        throw invalid("--data", data.toString(), "has no " + d.path());
      }
    }
    if (report != null && report.toAbsolutePath().getParent() != null && !Files.isDirectory(report.toAbsolutePath().getParent())) {
      throw invalid("--report", report.toString(), "its directory does not exist");
    }

    PrintStream err = System.err;
    Map<Dataset, List<Trace>> sets = read(err);
    List<Trace> all = sets.values().stream().flatMap(List::stream).toList();
    double readSeconds = (System.nanoTime() - start) / 1e9;
    err.println(String.format(Locale.ROOT, "bench: read %d traces in %.1fs; replaying %d policies",
        all.size(), readSeconds, Policies.names().size()));
    ReplayCommand.Progress progress = new ReplayCommand.Progress(err, System.console() != null);
    ReplayResult result = Replay.run(all, new ReplayOptions(Policies.names(), LEAD, BUDGET, workers), progress);
    progress.finish();
    double wall = (System.nanoTime() - start) / 1e9;

    Map<String, Summary> summaries = new LinkedHashMap<>();
    summaries.put(EVERY, result.summary());
    summaries.put(RESOLVED, result.only(all.stream().filter(BenchReplayCommand::resolvable).toList()).summary());
    sets.forEach((d, traces) ->
        summaries.put(d.name(), result.only(traces.stream().filter(BenchReplayCommand::resolvable).toList()).summary()));
    try {
      if (format.equals("json")) {
        writeJson(summaries, all.size(), workers, readSeconds, wall);
      } else {
        writeTable(summaries, all.size(), workers, readSeconds, wall);
      }
      if (report != null) {
        try (Writer html = Files.newBufferedWriter(report, StandardCharsets.UTF_8)) {
          Reporter.of("html").write(result, html);
        }
        err.println("report written to " + report);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return 0;
  }

  /** True when the trace has at least {@link #MIN_SCORED} scored intervals. */
  static boolean resolvable(Trace t) {
    return t.length() - Replay.warmup(t) >= MIN_SCORED;
  }

  private Map<Dataset, List<Trace>> read(PrintStream err) {
    Map<String, List<Trace>> byPath = new LinkedHashMap<>();
    Map<Dataset, List<Trace>> sets = new LinkedHashMap<>();
    for (Dataset d : DATASETS) {
      List<Trace> traces = byPath.computeIfAbsent(d.path(), p -> readPath(d, err));
      List<Trace> kept = traces.stream().filter(t -> t.resource() == d.resource()).toList();
      if (kept.isEmpty()) {
        throw invalid("--data", data.toString(), d.path() + " holds no " + d.resource().label() + " trace");
      }
      sets.put(d, kept);
    }
    return sets;
  }

  private List<Trace> readPath(Dataset d, PrintStream err) {
    Path p = data.resolve(d.path());
    err.println("bench: reading " + p);
    try {
      if (!d.cpuFilesOnly()) {
        return TraceReaders.read(p);
      }
      List<Trace> traces = new ArrayList<>();
      try (Stream<Path> files = Files.list(p)) {
        for (Path f : files.filter(f -> f.getFileName().toString().contains("cpu")).sorted().toList()) {
          traces.addAll(TraceReaders.read(f));
        }
      }
      return traces;
    } catch (IOException | IllegalArgumentException e) {
      throw invalid("--data", data.toString(), "cannot read " + d.path() + ": " + e.getMessage());
    }
  }

  private void writeTable(Map<String, Summary> summaries, int traces, int workers, double readSeconds, double wall) {
    PrintStream out = System.out;
    Summary all = summaries.get(RESOLVED);
    out.printf(Locale.ROOT, "Replay benchmark: %d traces, %d policies, lead %d, budget %s, %d threads%n%n",
        traces, Policies.names().size(), LEAD, Metric.SLACK.format(BUDGET), workers);
    List<String[]> rows = new ArrayList<>();
    List<String> header = new ArrayList<>(List.of("median slack at budget"));
    summaries.forEach((name, s) -> header.add(name + " (" + s.traces() + ")"));
    header.add("oracle gap");
    header.add("seconds");
    rows.add(header.toArray(String[]::new));
    for (String policy : Policies.names()) {
      List<String> row = new ArrayList<>(List.of(policy));
      summaries.values().forEach(s -> row.add(Metric.SLACK_AT_BUDGET.format(s.medianSlackAtBudget().get(policy))));
      row.add(Metric.ORACLE_GAP.format(all.medianOracleGap().get(policy)));
      row.add(String.format(Locale.ROOT, "%.1f", all.seconds().get(policy)));
      rows.add(row.toArray(String[]::new));
    }
    List<String> wins = new ArrayList<>(List.of("penumbra beats all"));
    summaries.values().forEach(s -> wins.add(Metric.SLACK.format(s.penumbraWinShare())));
    wins.add("");
    wins.add("");
    rows.add(wins.toArray(String[]::new));
    List<String> ratio = new ArrayList<>(List.of("penumbra / best"));
    summaries.values().forEach(s -> ratio.add(Metric.MARGIN_AT_BUDGET.format(s.medianRatioToBestBaseline())));
    ratio.add("");
    ratio.add("");
    rows.add(ratio.toArray(String[]::new));
    out.print(aligned(rows));
    out.println();
    out.printf(Locale.ROOT, "%s: the %d traces with >= %d scored intervals (enough to resolve a %s budget); "
        + "the datasets' columns and the targets count only those.%n", RESOLVED, all.traces(), MIN_SCORED,
        Metric.SLACK.format(BUDGET));
    out.println("oracle gap: median over resolvable traces; seconds: time in each policy, summed over traces.");
    out.printf(Locale.ROOT, "target: penumbra beats every baseline on >= %s of traces: %s (%s)%n",
        Metric.SLACK.format(TARGET_WIN_SHARE), Metric.SLACK.format(all.penumbraWinShare()),
        all.penumbraWinShare() >= TARGET_WIN_SHARE ? "met" : "not met");
    out.printf(Locale.ROOT, "target: penumbra / best baseline on the median trace <= %.2f: %s (%s)%n",
        TARGET_RATIO, Metric.MARGIN_AT_BUDGET.format(all.medianRatioToBestBaseline()),
        all.medianRatioToBestBaseline() <= TARGET_RATIO ? "met" : "not met");
    out.printf(Locale.ROOT, "target: wall time < %.0f s: %.1f s, reading %.1f s (%s)%n",
        TARGET_SECONDS, wall, readSeconds, wall < TARGET_SECONDS ? "met" : "not met");
    out.flush();
  }

  private void writeJson(Map<String, Summary> summaries, int traces, int workers, double readSeconds, double wall)
      throws IOException {
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = mapper.createObjectNode();
    root.put("lead", LEAD);
    root.put("budget", BUDGET);
    root.put("traces", traces);
    root.put("threads", workers);
    root.put("read_seconds", readSeconds);
    root.put("wall_seconds", wall);
    ObjectNode sets = root.putObject("datasets");
    summaries.forEach((name, s) -> {
      ObjectNode o = sets.putObject(name);
      o.put("traces", s.traces());
      putAll(o.putObject("median_slack_at_budget"), s.medianSlackAtBudget());
      putAll(o.putObject("median_oracle_gap"), s.medianOracleGap());
      putAll(o.putObject("seconds"), s.seconds());
      put(o, "penumbra_win_share", s.penumbraWinShare());
      put(o, "penumbra_to_best_baseline_median_ratio", s.medianRatioToBestBaseline());
    });
    Summary all = summaries.get(RESOLVED);
    ObjectNode targets = root.putObject("targets");
    target(targets.putObject("penumbra_win_share"), TARGET_WIN_SHARE, all.penumbraWinShare(), all.penumbraWinShare() >= TARGET_WIN_SHARE);
    target(targets.putObject("penumbra_to_best_baseline_median_ratio"), TARGET_RATIO, all.medianRatioToBestBaseline(),
        all.medianRatioToBestBaseline() <= TARGET_RATIO);
    target(targets.putObject("wall_seconds"), TARGET_SECONDS, wall, wall < TARGET_SECONDS);
    System.out.println(mapper.writeValueAsString(root));
    System.out.flush();
  }

  private static void target(ObjectNode o, double target, double value, boolean met) {
    o.put("target", target);
    put(o, "value", value);
    o.put("met", met);
  }

  private static void putAll(ObjectNode o, Map<String, Double> values) {
    values.forEach((k, v) -> put(o, k, v));
  }

  private static void put(ObjectNode o, String field, double v) {
    if (Double.isFinite(v)) {
      o.put(field, v);
    } else {
      o.putNull(field);
    }
  }

  static String aligned(List<String[]> rows) {
    int[] widths = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        line.append(i == 0 ? String.format("%-" + widths[i] + "s", row[i]) : "  " + String.format("%" + widths[i] + "s", row[i]));
      }
      sb.append(line.toString().stripTrailing()).append(System.lineSeparator());
    }
    return sb.toString();
  }

  private ParameterException invalid(String option, String value, String why) {
    return new ParameterException(spec.commandLine(),
        String.format(Locale.ROOT, "Invalid value for option '%s': '%s' (%s)", option, value, why));
  }
}
