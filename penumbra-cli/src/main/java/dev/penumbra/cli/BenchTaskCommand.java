package dev.penumbra.cli;

import ch.qos.logback.classic.Level;
import dev.penumbra.core.Priority;
import dev.penumbra.eval.task.TaskBench;
import dev.penumbra.eval.task.TaskBench.Result;
import dev.penumbra.eval.task.TaskReport;
import dev.penumbra.eval.task.TaskSweep;
import dev.penumbra.eval.task.TaskSweepHtml;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code penumbra bench task}: runs the same phased task workload three ways — Penumbra's shadows (forecast and
 * warm), reactive allocation (grant on request) and static per-task allocation (each task gets its type's peak
 * at admission) — then measures the shadows' overhead with many concurrent tasks and the model's step cost.
 */
@Command(
    name = "task",
    mixinStandardHelpOptions = true,
    description =
      "Runs phased JVM tasks (ramping memory, CPU bursts, IO phases; three types, some tasks deviating) with "
      + "Penumbra's task shadows, reactive allocation and static allocation, and measures the shadows' overhead.")
final class BenchTaskCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--tasks", paramLabel = "N", defaultValue = "600",
      description = "Tasks per mode. Default: ${DEFAULT-VALUE}.")
  int tasks;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "60",
      description = "Tasks per mode run first and not measured (JIT, heap growth). Default: ${DEFAULT-VALUE}.")
  int warmup;

  @Option(names = "--concurrency", paramLabel = "N", defaultValue = "8",
      description = "Tasks running at once. Default: ${DEFAULT-VALUE}.")
  int concurrency;

  @Option(names = "--interval", paramLabel = "MS", defaultValue = "10",
      description = "Sampling interval in milliseconds (1-1000). Default: ${DEFAULT-VALUE}.")
  int interval;

  @Option(names = "--grace", paramLabel = "MS", defaultValue = "100",
      description = "Grace period of unused reservations in milliseconds (0-3600000). Default: ${DEFAULT-VALUE}.")
  int grace;

  @Option(names = "--horizon", paramLabel = "MS", defaultValue = "50",
      description = "Forecast horizon (how far ahead to warm) in milliseconds (1-3600000). Default: ${DEFAULT-VALUE}.")
  int horizon;

  @Option(names = "--priority", paramLabel = "critical|standard|batch", defaultValue = "standard",
      description = "Priority of the tasks: the quantile warm-ups are sized at (p99, p90, p50). Default: ${DEFAULT-VALUE}.")
  String priority;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Workload seed. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--overhead-tasks", paramLabel = "N", defaultValue = "1000",
      description = "Concurrent tasks of the overhead run (0 skips it). Default: ${DEFAULT-VALUE}.")
  int overheadTasks;

  @Option(names = "--overhead-seconds", paramLabel = "S", defaultValue = "5",
      description = "Length of each overhead run in seconds (1-600). Default: ${DEFAULT-VALUE}.")
  int overheadSeconds;

  @Option(names = "--loads", paramLabel = "L,L,...", defaultValue = "0.25,0.5,1,1.5",
      description = "Load levels of the sweep on a node of fixed capacity (share of its memory the tasks running at "
          + "once need at their peaks; each in (0, 4]); 'none' skips the sweep. Default: ${DEFAULT-VALUE}.")
  String loads;

  @Option(names = "--sweep-tasks", paramLabel = "N", defaultValue = "150",
      description = "Tasks per load level and mode in the sweep. Default: ${DEFAULT-VALUE}.")
  int sweepTasks;

  @Option(names = "--sweep-seeds", paramLabel = "N,N,...", defaultValue = "7,8,9,10,11",
      description = "Workload seeds of the sweep, one repeat of every level and mode each (1-50 distinct seeds; the "
          + "targets take the median over seeds). The defaults are held out: admission was shaped on 42-44. "
          + "Default: ${DEFAULT-VALUE}.")
  String sweepSeeds;

  @Option(names = "--sweep-rounds", paramLabel = "N", defaultValue = "3",
      description = "In the sweep, slices each seed's tasks run in, the modes taking turns slice by slice so that a "
          + "slowdown of the machine falls on every mode alike (1-1000; 1 runs each mode's tasks in one go). "
          + "Default: ${DEFAULT-VALUE}.")
  int sweepRounds;

  @Option(names = "--queue-timeout", paramLabel = "MS", defaultValue = "2000",
      description = "In the sweep, how long a request waits for memory before it fails (0-3600000). Default: ${DEFAULT-VALUE}.")
  int queueTimeout;

  @Option(names = "--html", paramLabel = "FILE",
      description = "Also write the sweep's plots (latency, throughput, reserved memory against load) to FILE.")
  Path html;

  @Mixin
  OutputFormat output;

  @Override
  public Integer call() throws Exception {
    long start = System.nanoTime();
    OptionChecks.between(spec, "--tasks", tasks, 1, 100_000);
    Priority taskPriority;
    try {
      taskPriority = Priority.parse(priority);
    } catch (IllegalArgumentException e) {
      throw OptionChecks.invalid(spec, "--priority", priority, "not one of critical, standard, batch");
    }
    OptionChecks.between(spec, "--warmup", warmup, 0, 100_000);
    OptionChecks.between(spec, "--concurrency", concurrency, 1, 256);
    OptionChecks.between(spec, "--interval", interval, 1, 1000);
    OptionChecks.between(spec, "--grace", grace, 0, 3_600_000);
    OptionChecks.between(spec, "--horizon", horizon, 1, 3_600_000);
    OptionChecks.between(spec, "--overhead-tasks", overheadTasks, 0, 10_000);
    OptionChecks.between(spec, "--overhead-seconds", overheadSeconds, 1, 600);
    List<Double> levels = OptionChecks.loads(spec, "--loads", loads, 4);
    OptionChecks.between(spec, "--sweep-tasks", sweepTasks, 1, 100_000);
    List<Long> seeds = parseSeeds(sweepSeeds);
    OptionChecks.between(spec, "--queue-timeout", queueTimeout, 0, 3_600_000);
    OptionChecks.between(spec, "--sweep-rounds", sweepRounds, 1, 1000);
    if (html != null && levels.isEmpty()) {
      throw OptionChecks.invalid(spec, "--html", html.toString(), "needs a sweep; --loads is 'none'");
    }
    // Fallbacks and hook failures are counted in the figures; their log lines would only interleave with them.
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.penumbra.task")).setLevel(Level.ERROR);
    PrintStream err = System.err;
    TaskBench.Options o = new TaskBench.Options(tasks, warmup, concurrency, interval, grace, horizon, taskPriority,
        seed, overheadTasks, overheadSeconds);
    Result r = TaskBench.run(o, m -> err.println("bench task: " + m));
    TaskSweep.Result sweep = null;
    if (!levels.isEmpty()) {
      sweep = TaskSweep.run(new TaskSweep.Options(levels, sweepTasks, interval, grace, horizon, taskPriority, seeds,
          queueTimeout, sweepRounds), m -> err.println("bench task: " + m));
      TaskSweep.Result plotted = sweep;
      ReportFile.write(html, w -> TaskSweepHtml.write(plotted, w));
    }
    double wall = (System.nanoTime() - start) / 1e9;
    new TaskReport(r, sweep, wall).print(output.value(), System.out);
    return 0;
  }

  private List<Long> parseSeeds(String text) {
    List<Long> out = new ArrayList<>();
    for (String part : text.split(",")) {
      try {
        out.add(Long.parseLong(part.trim()));
      } catch (NumberFormatException e) {
        throw OptionChecks.invalid(spec, "--sweep-seeds", text, "'" + part.trim() + "' is not a whole number");
      }
    }
    if (out.size() > TaskSweep.MAX_SEEDS) {
      throw OptionChecks.invalid(spec, "--sweep-seeds", text, "at most " + TaskSweep.MAX_SEEDS + " seeds, was " + out.size());
    }
    if (out.stream().distinct().count() != out.size()) {
      throw OptionChecks.invalid(spec, "--sweep-seeds", text, "a seed is given twice");
    }
    return out;
  }
}
