package dev.penumbra.eval.replay;

import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.eval.policy.Policies;
import dev.penumbra.eval.trace.Trace;
import dev.penumbra.eval.trace.TraceReaders;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@code penumbra bench replay}: the benchmark trace set (real data: cpu, memory, io and network series), every
 * registered policy at lead 1 and a 1% budget, and the summaries overall, per part of the validation split, per
 * resource and per dataset. See docs/benchmarks.md, "Replay".
 *
 * <p>The split: every dataset is cut into a tuning part and a validation part ({@link Dataset#validationMark}).
 * The forecaster's constants were chosen on the tuning part; the targets are judged on the validation part.
 */
public final class ReplayBench {
  private ReplayBench() {}

  public static final int LEAD = 1;
  public static final double BUDGET = 0.01;
  /** Penumbra beats every baseline on at least this share of traces. */
  public static final double TARGET_WIN_SHARE = 0.9;
  /** On the median trace penumbra's slack-at-budget is at most this multiple of the best baseline's. */
  public static final double TARGET_RATIO = 0.75;
  /** The whole run, reading included. */
  public static final double TARGET_SECONDS = 60;
  /**
   * Traces with fewer scored intervals than {@code 1 / budget} cannot resolve the budget: a 1% budget over
   * fewer than 100 intervals allows no violation at all, so slack-at-budget degenerates into covering the
   * single worst interval (and a 1-4 interval trace ties every policy). Such traces are replayed and shown in
   * the "every trace" column, but the targets and the per-dataset columns count only the others.
   */
  public static final int MIN_SCORED = (int) Math.ceil(1 / BUDGET);
  public static final String EVERY = "every trace";
  public static final String RESOLVED = "resolvable";
  public static final String TUNING = "tuning";
  public static final String VALIDATION = "validation";
  /** The resources scored, each with a validation column of its own ("validation cpu", ...). */
  public static final List<Dimension> RESOURCES =
      List.of(Dimension.CPU, Dimension.MEMORY, Dimension.IO, Dimension.NETWORK);

  /**
   * One dataset of the benchmark: where it is under the data directory, which resource it scores and how it is
   * split.
   *
   * @param validationMark a trace whose name contains it is validation, any other tuning (Bitbrains: the month
   *     directory {@code 2013-8/}); when null, the traces sorted by name alternate, the first tuning, the second
   *     validation, and so on (a fixed subset of whole series)
   */
  public record Dataset(String name, String path, Dimension resource, boolean cpuFilesOnly, String validationMark) {
    /** True when {@code trace}, one of {@code traces} (this dataset's), belongs to the validation part. */
    public boolean validation(Trace trace, List<Trace> traces) {
      if (validationMark != null) {
        return trace.name().contains(validationMark);
      }
      List<Trace> sorted = traces.stream().sorted(java.util.Comparator.comparing(Trace::name)).toList();
      for (int i = 0; i < sorted.size(); i++) {
        if (sorted.get(i) == trace) {
          return i % 2 == 1;
        }
      }
      throw new IllegalArgumentException(trace.name() + " is not a trace of dataset " + name);
    }

    /** The traces of one part, in the order given. */
    public List<Trace> part(List<Trace> traces, boolean validation) {
      return traces.stream().filter(t -> validation(t, traces) == validation).toList();
    }
  }

  private static final String BITBRAINS_VALIDATION = "2013-8/";

  public static final List<Dataset> DATASETS = List.of(
      new Dataset("NAB cpu", "nab/data/realAWSCloudwatch", Dimension.CPU, true, null),
      new Dataset("Bitbrains cpu", "bitbrains-rnd", Dimension.CPU, false, BITBRAINS_VALIDATION),
      new Dataset("Bitbrains memory", "bitbrains-rnd", Dimension.MEMORY, false, BITBRAINS_VALIDATION),
      new Dataset("Bitbrains io", "bitbrains-rnd", Dimension.IO, false, BITBRAINS_VALIDATION),
      new Dataset("Bitbrains network", "bitbrains-rnd", Dimension.NETWORK, false, BITBRAINS_VALIDATION),
      new Dataset("Alibaba cpu", "alibaba-v2018-sample/machine_usage.csv", Dimension.CPU, false, null),
      new Dataset("Alibaba memory", "alibaba-v2018-sample/machine_usage.csv", Dimension.MEMORY, false, null),
      new Dataset("GenAI memory", "alibaba-genai-v2026/pod_memory_util_anon.tar.gz", Dimension.MEMORY, false, null));

  /**
   * Everything one run measured: the full replay, and the summaries by column: {@link #EVERY}, {@link #RESOLVED},
   * {@link #TUNING}, {@link #VALIDATION}, "validation cpu|memory|io|network", then per dataset
   * "NAB cpu tuning", "NAB cpu validation", ...; every column but the first counts resolvable traces only.
   */
  public record Result(ReplayResult replay, Map<String, Summary> summaries, int traces, int threads) {
    public Result {
      summaries = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(summaries));
    }
  }

  /** True when the trace has at least {@link #MIN_SCORED} scored intervals. */
  public static boolean resolvable(Trace t) {
    return t.length() - Replay.warmup(t) >= MIN_SCORED;
  }

  /**
   * The first path of {@link #DATASETS} missing under {@code data}, if any.
   */
  public static java.util.Optional<String> missing(Path data) {
    return DATASETS.stream().map(Dataset::path).filter(p -> !Files.exists(data.resolve(p))).findFirst();
  }

  /**
   * Reads every dataset's traces (a file read once even when two datasets share it).
   *
   * @throws IllegalArgumentException saying which dataset cannot be read or holds no trace of its resource
   */
  public static Map<Dataset, List<Trace>> read(Path data, Consumer<String> progress) {
    Map<String, List<Trace>> byPath = new LinkedHashMap<>();
    Map<Dataset, List<Trace>> sets = new LinkedHashMap<>();
    for (Dataset d : DATASETS) {
      List<Trace> traces = byPath.computeIfAbsent(d.path(), p -> readPath(data, d, progress));
      List<Trace> kept = traces.stream().filter(t -> t.resource() == d.resource()).toList();
      if (kept.isEmpty()) {
        throw new IllegalArgumentException(d.path() + " holds no " + d.resource().label() + " trace");
      }
      for (boolean validation : new boolean[] {false, true}) {
        if (d.part(kept, validation).isEmpty()) {
          throw new IllegalArgumentException(d.path() + " holds no " + d.resource().label() + " trace for the "
              + (validation ? VALIDATION : TUNING) + " part of " + d.name()
              + (d.validationMark() == null ? "" : " (validation: names containing '" + d.validationMark() + "')"));
        }
      }
      sets.put(d, kept);
    }
    return sets;
  }

  private static List<Trace> readPath(Path data, Dataset d, Consumer<String> progress) {
    Path p = data.resolve(d.path());
    progress.accept("reading " + p);
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
      throw new IllegalArgumentException("cannot read " + d.path() + ": " + e.getMessage(), e);
    }
  }

  /** Replays every trace with every registered policy on {@code threads} threads. */
  public static Result run(Map<Dataset, List<Trace>> sets, int threads, ProgressListener progress) {
    List<Trace> all = sets.values().stream().flatMap(List::stream).toList();
    ReplayResult result = Replay.run(all, new ReplayOptions(Policies.names(), LEAD, BUDGET, threads), progress);
    Map<String, Summary> summaries = new LinkedHashMap<>();
    summaries.put(EVERY, result.summary());
    summaries.put(RESOLVED, result.only(all.stream().filter(ReplayBench::resolvable).toList()).summary());
    List<Trace> tuning = new ArrayList<>();
    List<Trace> validation = new ArrayList<>();
    sets.forEach((d, traces) -> {
      tuning.addAll(d.part(traces, false).stream().filter(ReplayBench::resolvable).toList());
      validation.addAll(d.part(traces, true).stream().filter(ReplayBench::resolvable).toList());
    });
    summaries.put(TUNING, result.only(tuning).summary());
    summaries.put(VALIDATION, result.only(validation).summary());
    for (Dimension r : RESOURCES) {
      summaries.put(VALIDATION + " " + r.label(),
          result.only(validation.stream().filter(t -> t.resource() == r).toList()).summary());
    }
    sets.forEach((d, traces) -> {
      for (boolean v : new boolean[] {false, true}) {
        summaries.put(d.name() + " " + (v ? VALIDATION : TUNING),
            result.only(d.part(traces, v).stream().filter(ReplayBench::resolvable).toList()).summary());
      }
    });
    return new Result(result, summaries, all.size(), threads);
  }
}
