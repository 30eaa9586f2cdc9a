package dev.penumbra.server;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.loop.ControlLoop;
import dev.penumbra.task.MemoryLease;
import dev.penumbra.task.ResourceUnavailableException;
import dev.penumbra.task.Signal;
import dev.penumbra.task.TaskContext;
import dev.penumbra.task.TaskExecutor;
import dev.penumbra.task.TaskModel;
import dev.penumbra.task.TaskResult;
import dev.penumbra.task.TaskSpec;
import dev.penumbra.task.TaskStats;
import io.javalin.http.HandlerType;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.ToDoubleFunction;
import java.util.regex.Pattern;

/**
 * Phased JVM tasks on a {@link TaskExecutor} that reserves on the server's ledger. A task is a list of phases;
 * a phase holds some memory from the executor's pool and keeps some worker threads busy for a while, so the
 * executor's shadow sees its use step up and down and warms what the next phase will take. Timeline (memory,
 * MiB, one sample per phase end): predicted = the task model's point forecast of memory, reserved = what the
 * ledger holds for the task, actual = what the phase holds, baseline = the task's peak phase (a static
 * allocation sized for the task's largest need).
 */
final class TaskCapability implements Capability, Capability.Learning {
  static final String NAME = "task";
  private static final int RECENT = 50;
  static final int MAX_PHASES = 16;
  static final int MAX_THREADS = 16;
  static final long MAX_TOTAL_MILLIS = 60_000;
  private static final Pattern TYPE = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final double MIB = 1 << 20;

  private final Ledger ledger;
  private final ServerConfig config;
  private final ErrorTracker errors = new ErrorTracker();
  private final Timeline timeline = new Timeline("memory", "MiB", 600);
  private final ArrayDeque<TaskRecord> recent = new ArrayDeque<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final TaskExecutor executor;
  private volatile boolean closed;
  private volatile MeterRegistry registry;
  private long primaryNanos;
  private final LoopView view;

  TaskCapability(Ledger ledger, ServerConfig config, Consumer<String> progress) {
    this.ledger = ledger;
    this.config = config;
    this.executor = TaskExecutor.builder(ledger, config.ledger().node()).errorTracker(errors)
        .queueTimeout(Duration.ofSeconds(30)).build();
    this.view = LoopView.of(NAME, timeline).ready(() -> !closed).inFlight(inFlight::get).queued(this::waiting)
        .errors(errors).shadowOverhead(this::samplerShare).loops(() -> List.of(executor.loopStats())).build();
  }

  /** One phase of {@code POST /v1/tasks}: hold {@code memory} and keep {@code threads} workers busy. */
  record PhaseBody(Long millis, String memory, Integer threads) {}

  /** The body of {@code POST /v1/tasks}. */
  record TaskBodySpec(String type, String priority, List<PhaseBody> phases) {}

  /** A validated phase. */
  record Phase(long millis, long memoryBytes, int threads) {}

  /** A finished task, as {@code POST /v1/tasks} answers and {@code GET /v1/tasks} lists; no failure when it succeeded. */
  record TaskRecord(long time, String taskId, String type, String priority, int phases, boolean succeeded,
      @JsonInclude(JsonInclude.Include.NON_NULL) String failure, double latencyMillis, double stalledMillis,
      long hits, long misses) {}

  @Override
  public LoopView view() {
    return view;
  }

  private int waiting() {
    return Math.max(0, inFlight.get() - executor.running());
  }

  @Override
  public Optional<com.fasterxml.jackson.databind.JsonNode> learned() {
    return Optional.of(Json.MAPPER.valueToTree(new Learned(errors.export(), executor.exportProfiles())));
  }

  /** What the task capability saves between runs: its error scores and the executor's profiles. */
  record Learned(List<ErrorTracker.Scores> errors, List<dev.penumbra.task.TaskProfile.State> profiles) {}

  @Override
  public void restoreLearned(com.fasterxml.jackson.databind.JsonNode saved) {
    errors.restore(Json.convert(saved.path("errors"),
        new com.fasterxml.jackson.core.type.TypeReference<List<ErrorTracker.Scores>>() {}, "task errors"));
    executor.restoreProfiles(Json.convert(saved.path("profiles"),
        new com.fasterxml.jackson.core.type.TypeReference<List<dev.penumbra.task.TaskProfile.State>>() {},
        "task profiles"));
  }

  /** The sampler's CPU time over the wall time of the tasks it watched. */
  private double samplerShare() {
    long primary;
    synchronized (this) {
      primary = primaryNanos;
    }
    return primary == 0 ? Double.NaN : (double) executor.stats().samplerCpuNanos() / primary;
  }

  @Override
  public void metrics(MeterRegistry registry) {
    this.registry = registry;
    counter(registry, "penumbra.task.completed", "Tasks that ended", TaskStats::completed);
    counter(registry, "penumbra.task.failed", "Tasks whose body threw (rejections included)", TaskStats::failed);
    counter(registry, "penumbra.task.hits", "Resource requests served at once from what was reserved",
        TaskStats::hits);
    counter(registry, "penumbra.task.misses", "Resource requests that waited for a grant", TaskStats::misses);
    counter(registry, "penumbra.task.warmed", "Warm reservations made", TaskStats::warmed);
    counter(registry, "penumbra.task.warm.used", "Warm reservations that became active", TaskStats::warmUsed);
    counter(registry, "penumbra.task.grace.releases", "Headroom reclaimed by the loop's adjuster after the grace period",
        TaskStats::graceReleases);
    // The task loop's baseline guard: which rule acts and the running cost of both on the same measured use.
    Gauge.builder("penumbra.loop.acting.baseline", executor,
            e -> e.loopStats().guard().acting() == ControlLoop.Rule.BASELINE ? 1 : 0)
        .description("1 while the loop acts on its baseline rule (grant on request), 0 while on Penumbra's forecast")
        .tag("capability", NAME).register(registry);
    for (ControlLoop.Rule rule : ControlLoop.Rule.values()) {
      Gauge.builder("penumbra.loop.cost", executor, e -> rule == ControlLoop.Rule.PENUMBRA
              ? e.loopStats().guard().penumbraCost() : e.loopStats().guard().baselineCost())
          .description("Decayed cost of a rule on the loop's measured use (slack, shortfall, grant waits)")
          .tags("capability", NAME, "rule", rule.label()).register(registry);
    }
    FunctionCounter.builder("penumbra.loop.reserved.memory.byte.seconds", executor,
            e -> e.loopStats().reserved().memoryByteSeconds())
        .description("Memory the loop's reservations held, integrated over time").tag("capability", NAME)
        .register(registry);
    FunctionCounter.builder("penumbra.loop.used.memory.byte.seconds", executor,
            e -> e.loopStats().used().memoryByteSeconds())
        .description("Memory the work was measured to use, integrated over time").tag("capability", NAME)
        .register(registry);
  }

  private void counter(MeterRegistry registry, String name, String description, ToDoubleFunction<TaskStats> f) {
    FunctionCounter.builder(name, executor, e -> f.applyAsDouble(e.stats())).description(description)
        .register(registry);
  }

  @Override
  public void routes(Api api) {
    api.command(HandlerType.POST, "/v1/tasks", ctx -> {
      TaskBodySpec b = Json.read(ctx, TaskBodySpec.class, config.server().maxBodyBytes());
      ctx.json(run(b));
    });
    api.get("/v1/tasks", ctx -> {
      List<TaskRecord> list;
      synchronized (recent) {
        list = List.copyOf(recent);
      }
      ctx.json(list);
    });
  }

  /** Validates the spec, runs the task to its end and returns its result. */
  TaskRecord run(TaskBodySpec b) throws InterruptedException {
    if (b.type() == null || !TYPE.matcher(b.type()).matches()) {
      throw new ApiException(400, "type", String.valueOf(b.type()),
          "field 'type' must be 1-64 of [A-Za-z0-9._-], was '" + b.type() + "'");
    }
    Priority priority;
    try {
      priority = b.priority() == null ? Priority.STANDARD : Edge.priority(b.priority());
    } catch (IllegalArgumentException e) {
      throw new ApiException(400, "priority", b.priority(), "field 'priority' must be critical, standard or batch");
    }
    List<Phase> phases = phases(b.phases());
    if (closed) {
      throw new ApiException(503, null, null, "the task capability is closed");
    }
    if (inFlight.get() >= config.task().maxRunning()) {
      throw new ApiException(503, null, null, "too many tasks in flight (" + config.task().maxRunning() + ")");
    }
    inFlight.incrementAndGet();
    long t0 = System.nanoTime();
    try {
      long peak = phases.stream().mapToLong(Phase::memoryBytes).max().orElse(0);
      TaskResult r;
      try {
        r = executor.submit(TaskSpec.of(b.type(), priority), ctx -> runPhases(ctx, phases, peak)).get();
      } catch (ExecutionException e) {
        throw new IllegalStateException("task executor failed: " + e.getCause(), e.getCause());
      } catch (IllegalStateException e) {
        throw new ApiException(503, null, null, "the task capability is closed");
      }
      synchronized (this) {
        primaryNanos += System.nanoTime() - t0;
      }
      return record(r, priority, phases.size());
    } finally {
      inFlight.decrementAndGet();
      view.changed();
    }
  }

  private List<Phase> phases(List<PhaseBody> in) {
    if (in == null || in.isEmpty() || in.size() > MAX_PHASES) {
      throw new ApiException(400, "phases", in == null ? "null" : in.size() + " phases",
          "field 'phases' must hold 1 to " + MAX_PHASES + " phases");
    }
    long memoryLimit = config.ledger().memory() / 2;
    List<Phase> out = new ArrayList<>();
    long total = 0;
    for (int i = 0; i < in.size(); i++) {
      PhaseBody p = in.get(i);
      String f = "phases[" + i + "]";
      if (p == null) {
        throw new ApiException(400, f, "null", "field '" + f + "' must be an object");
      }
      if (p.millis() == null || p.millis() < 1 || p.millis() > MAX_TOTAL_MILLIS) {
        throw new ApiException(400, f + ".millis", String.valueOf(p.millis()),
            "field '" + f + ".millis' must be in [1, " + MAX_TOTAL_MILLIS + "], was " + p.millis());
      }
      long mem;
      try {
        mem = p.memory() == null ? 0 : Resources.parseBytes(p.memory());
      } catch (IllegalArgumentException e) {
        throw new ApiException(400, f + ".memory", p.memory(),
            "field '" + f + ".memory' must be an amount such as 16MiB, was '" + p.memory() + "'");
      }
      if (mem > memoryLimit) {
        throw new ApiException(400, f + ".memory", p.memory(), "field '" + f + ".memory' must be at most "
            + Resources.formatBytes(memoryLimit) + " (half the node's memory), was " + p.memory());
      }
      int threads = p.threads() == null ? 0 : p.threads();
      if (threads < 0 || threads > MAX_THREADS) {
        throw new ApiException(400, f + ".threads", String.valueOf(threads),
            "field '" + f + ".threads' must be in [0, " + MAX_THREADS + "], was " + threads);
      }
      total += p.millis();
      out.add(new Phase(p.millis(), mem, threads));
    }
    if (total > MAX_TOTAL_MILLIS) {
      throw new ApiException(400, "phases", total + " ms", "the phases' millis must add up to at most "
          + MAX_TOTAL_MILLIS + ", was " + total);
    }
    return out;
  }

  /** The task's body: each phase takes its memory, touches it, keeps its threads busy, and gives it back. */
  private void runPhases(TaskContext ctx, List<Phase> phases, long peak) {
    for (int i = 0; i < phases.size(); i++) {
      Phase ph = phases.get(i);
      ctx.progress((double) i / phases.size());
      MemoryLease lease = ph.memoryBytes() > 0 ? ctx.memory(ph.memoryBytes()) : null;
      try {
        if (lease != null) {
          for (int k = 0; k < lease.blocks(); k++) {
            byte[] block = lease.block(k);
            for (int j = 0; j < block.length; j += 4096) {
              block[j]++;
            }
          }
        }
        long end = System.nanoTime() + ph.millis() * 1_000_000;
        Runnable spin = () -> {
          while (System.nanoTime() < end) {
            Thread.onSpinWait();
          }
        };
        if (ph.threads() > 0) {
          ctx.parallel(ph.threads(), spin);
        } else {
          spin.run();
        }
        sample(ctx.taskId(), i, ph, peak);
      } finally {
        if (lease != null) {
          lease.close();
        }
      }
    }
  }

  private void sample(String taskId, int phase, Phase ph, long peak) {
    TaskModel m = executor.model(taskId);
    double predicted = m == null ? Double.NaN : m.point(Signal.MEMORY);
    long reserved = 0;
    for (Reservation r : ledger.snapshot().reservations()) {
      if (r.owner().equals(taskId)) {
        reserved += r.amount().memoryBytes();
      }
    }
    timeline.add(new Timeline.Sample(System.currentTimeMillis(), taskId + "/" + phase,
        Double.isFinite(predicted) ? predicted / MIB : 0, reserved / MIB, ph.memoryBytes() / MIB, peak / MIB));
  }

  private TaskRecord record(TaskResult r, Priority priority, int phases) {
    TaskRecord n = new TaskRecord(System.currentTimeMillis(), r.taskId(), r.type(), priority.label(), phases,
        r.succeeded(), r.failure() == null ? null : r.failure().getClass().getSimpleName() + ": "
            + r.failure().getMessage(), r.latency().toNanos() / 1e6, r.stalled().toNanos() / 1e6, r.hits(),
        r.misses());
    synchronized (recent) {
      if (recent.size() == RECENT) {
        recent.removeFirst();
      }
      recent.addLast(n);
    }
    MeterRegistry reg = registry;
    if (reg != null) {
      Timer.builder("penumbra.task.latency").description("Task latency, submission to end")
          .tags("priority", priority.label(), "outcome", r.succeeded() ? "succeeded" : "failed")
          .register(reg).record(r.latency());
    }
    return n;
  }

  /**
   * Submits one phased task and waits for it: a load, a wider compute phase holding more memory, and a
   * short write-out, with sizes drawn per task so the executor's profile of each type has something to learn.
   */
  @Override
  public void demoStep(Random random) throws Exception {
    String type = random.nextBoolean() ? "etl" : "report";
    int scale = type.equals("etl") ? 16 : 8;
    // A task's own thread holds a core; a worker thread is added only where the node has cores to spare.
    int workers = config.ledger().capacity().cpuMillis() >= 4000 ? 1 : 0;
    List<PhaseBody> phases = List.of(
        new PhaseBody(20L + random.nextInt(20), (scale / 2) + "MiB", 0),
        new PhaseBody(40L + random.nextInt(60), (scale + random.nextInt(scale)) + "MiB", workers),
        new PhaseBody(10L + random.nextInt(10), "2MiB", 0));
    double u = random.nextDouble();
    String priority = u < 0.2 ? "critical" : u < 0.6 ? "standard" : "batch";
    TaskRecord r;
    try {
      r = run(new TaskBodySpec(type, priority, phases));
    } catch (ApiException e) {
      if (e.status() == 503) {
        return;
      }
      throw e;
    }
    if (!r.succeeded() && !closed) {
      // A rejection for capacity is the fallback working as configured, not a broken task.
      if (!r.failure().startsWith(ResourceUnavailableException.class.getSimpleName())) {
        throw new IllegalStateException("demo task failed: " + r.failure());
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    executor.close();
  }
}
