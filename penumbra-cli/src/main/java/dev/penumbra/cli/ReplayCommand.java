package dev.penumbra.cli;

import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.eval.policy.Policies;
import dev.penumbra.eval.replay.ProgressListener;
import dev.penumbra.eval.replay.Replay;
import dev.penumbra.eval.replay.ReplayOptions;
import dev.penumbra.eval.replay.ReplayResult;
import dev.penumbra.eval.report.Reporter;
import dev.penumbra.eval.trace.DemoTrace;
import dev.penumbra.eval.trace.Trace;
import dev.penumbra.eval.trace.TraceReaders;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
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

/** {@code penumbra replay}: replays usage traces through allocation policies and compares them. */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description =
      "Replays usage traces interval by interval through allocation policies and scores each: slack, "
      + "violation rate, shortfall, actuations and slack at a violation budget. Without --trace it replays "
      + "a built-in, seeded demonstration trace.")
final class ReplayCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--trace", paramLabel = "PATH", arity = "1..*",
      description = "Trace files or directories: --trace a.csv b.csv, or repeated. Default: the demo trace.")
  List<Path> traces = new ArrayList<>();

  @Option(names = "--policy", paramLabel = "NAME", split = ",",
      description = "Policy to replay (repeatable or comma-separated): ${COMPLETION-CANDIDATES}. Default: all.",
      completionCandidates = PolicyNames.class)
  List<String> policies = new ArrayList<>();

  @Option(names = "--trace-format", paramLabel = "NAME", defaultValue = "auto",
      description = "Format of the --trace files: auto, nab, bitbrains, alibaba2018, genai2026, csv. Default: ${DEFAULT-VALUE} (detect each file).")
  String traceFormat;

  @Option(names = "--resource", paramLabel = "cpu|memory|io|network",
      description = "Only traces of this resource. Default: every resource that the traces hold.")
  String resource;

  @Option(names = "--lead", paramLabel = "N", defaultValue = "1",
      description = "Decide each allocation N intervals ahead (>= 1). Default: ${DEFAULT-VALUE}.")
  int lead;

  @Option(names = "--budget", paramLabel = "RATE", defaultValue = "1%",
      description = "Tolerated violation rate for slack-at-budget, e.g. 1%% or 0.01, in [0, 100%%). Default: 1%%.")
  String budget;

  @Option(names = "--format", paramLabel = "table|csv|json", defaultValue = "table",
      description = "Output on stdout. Default: ${DEFAULT-VALUE}.")
  String format;

  @Mixin
  ReportFile report;

  @Option(names = "--threads", paramLabel = "N", description = "Worker threads. Default: one per core.")
  Integer threads;

  static final class PolicyNames implements Iterable<String> {
    @Override
    public java.util.Iterator<String> iterator() {
      return Policies.names().iterator();
    }
  }

  @Override
  public Integer call() {
    List<String> chosen = policies.isEmpty() ? Policies.names() : List.copyOf(policies);
    for (String p : chosen) {
      if (!Policies.names().contains(p)) {
        throw OptionChecks.invalid(spec, "--policy", p, "not one of " + String.join(", ", Policies.names()));
      }
    }
    Dimension dimension = null;
    if (resource != null) {
      try {
        dimension = Dimension.parse(resource);
      } catch (IllegalArgumentException e) {
        throw OptionChecks.invalid(spec, "--resource", resource, "not one of cpu, memory, io, network");
      }
    }
    OptionChecks.atLeast(spec, "--lead", lead, 1);
    double rate = parseBudget(budget);
    // Every option is checked before any trace is read: reading can take seconds.
    OptionChecks.oneOf(spec, "--format", format, "table", "csv", "json");
    if (!TraceReaders.FORMATS.contains(traceFormat.trim().toLowerCase(Locale.ROOT))) {
      throw OptionChecks.invalid(spec, "--trace-format", traceFormat, "not one of " + String.join(", ", TraceReaders.FORMATS));
    }
    int workers = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
    OptionChecks.atLeast(spec, "--threads", workers, 1);
    for (Path p : traces) {
      if (!Files.exists(p)) {
        throw OptionChecks.invalid(spec, "--trace", p.toString(), "no such file or directory");
      }
    }

    List<Trace> loaded = load(dimension);
    PrintStream err = System.err;
    Progress progress = new Progress(System.err, System.console() != null);
    ReplayResult result = Replay.run(loaded, new ReplayOptions(chosen, lead, rate, workers), progress);
    progress.finish();
    try {
      Writer out = new OutputStreamWriter(System.out, StandardCharsets.UTF_8);
      Reporter.of(format).write(result, out);
      out.flush();
      report.write(html -> Reporter.of("html").write(result, html));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return 0;
  }

  private List<Trace> load(Dimension dimension) {
    if (traces.isEmpty()) {
      return List.of(DemoTrace.of(dimension == null ? Dimension.CPU : dimension));
    }
    List<Trace> all = new ArrayList<>();
    for (Path p : traces) {
      try {
        all.addAll(TraceReaders.read(p, traceFormat.trim().toLowerCase(Locale.ROOT)));
      } catch (IOException | IllegalArgumentException e) {
        throw OptionChecks.invalid(spec, "--trace", p.toString(), "cannot be read: " + e.getMessage());
      }
    }
    if (dimension != null) {
      Dimension d = dimension;
      all.removeIf(t -> t.resource() != d);
      if (all.isEmpty()) {
        throw OptionChecks.invalid(spec, "--resource", resource, "none of the given traces measures it");
      }
    }
    if (all.isEmpty()) {
      throw OptionChecks.invalid(spec, "--trace", traces.toString(), "holds no trace");
    }
    return all;
  }

  private double parseBudget(String text) {
    String t = text.trim();
    double v;
    try {
      v = t.endsWith("%") ? Double.parseDouble(t.substring(0, t.length() - 1).trim()) / 100 : Double.parseDouble(t);
    } catch (NumberFormatException e) {
      throw OptionChecks.invalid(spec, "--budget", text, "not a rate such as 1% or 0.01");
    }
    if (!(v >= 0 && v < 1)) {
      throw OptionChecks.invalid(spec, "--budget", text, "must be in [0, 100%)");
    }
    return v;
  }

  /**
   * A progress bar on stderr, never stdout: redrawn in place on a terminal; otherwise, once the run has lasted
   * two seconds, a plain line at every tenth.
   */
  static final class Progress implements ProgressListener {
    private final PrintStream err;
    private final boolean terminal;
    private final long start = System.nanoTime();
    private int lastTenth = -1;
    private boolean drawn;

    Progress(PrintStream err, boolean terminal) {
      this.err = err;
      this.terminal = terminal;
    }

    @Override
    public synchronized void progress(int done, int total) {
      double seconds = (System.nanoTime() - start) / 1e9;
      if (terminal) {
        int width = 30;
        int filled = (int) ((long) done * width / total);
        err.print(String.format(Locale.ROOT, "\rreplay [%s%s] %d/%d  %.1fs",
            "#".repeat(filled), " ".repeat(width - filled), done, total, seconds));
        drawn = true;
      } else if (seconds >= 2) {
        int tenth = (int) ((long) done * 10 / total);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          err.println(String.format(Locale.ROOT, "replay: %d/%d runs, %.1fs", done, total, seconds));
        }
      }
    }

    synchronized void finish() {
      if (drawn) {
        err.println();
      }
    }
  }
}
