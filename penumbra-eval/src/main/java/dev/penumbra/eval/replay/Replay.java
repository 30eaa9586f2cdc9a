package dev.penumbra.eval.replay;

import dev.penumbra.eval.policy.Policies;
import dev.penumbra.eval.policy.Policy;
import dev.penumbra.eval.policy.PolicyContext;
import dev.penumbra.eval.trace.Trace;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Replays traces through policies, interval by interval, and scores them. Before interval {@code t} each
 * policy has been shown the use of intervals {@code 0..t-lead} and no more, then decides the allocation of
 * {@code t}, which is scored against the use of {@code t}. The first {@link #warmup} intervals of a trace
 * are replayed but not scored, the same for every policy. Each (trace, policy) pair runs as its own task.
 */
public final class Replay {

  static final long DAY_MILLIS = 24L * 3600 * 1000;

  private Replay() {}

  /**
   * Leading intervals left unscored: the first 24 hours of trace time, but at most a quarter of the trace
   * (short traces still get three quarters scored).
   */
  public static int warmup(Trace trace) {
    long perDay = (long) Math.ceil((double) DAY_MILLIS / trace.stepMillis());
    return (int) Math.min(perDay, trace.length() / 4);
  }

  /** Runs every policy of {@code options} on every trace. */
  public static ReplayResult run(List<Trace> traces, ReplayOptions options, ProgressListener progress) {
    int total = traces.size() * options.policies().size();
    AtomicInteger done = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(options.threads(), Math.max(1, total)));
    try {
      List<Future<PolicyRun>> futures = new ArrayList<>();
      for (Trace trace : traces) {
        for (String name : options.policies()) {
          futures.add(pool.submit(() -> {
            Policy policy = Policies.create(name, new PolicyContext(trace, options.lead(), options.budget()));
            PolicyRun run = replay(trace, policy, options.lead(), options.budget());
            progress.progress(done.incrementAndGet(), total);
            return run;
          }));
        }
      }
      List<PolicyRun> runs = new ArrayList<>(futures.size());
      for (Future<PolicyRun> f : futures) {
        runs.add(f.get());
      }
      return new ReplayResult(options, traces, runs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("replay interrupted", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  /** Replays one policy instance over one trace. */
  public static PolicyRun replay(Trace trace, Policy policy, int lead, double budget) {
    if (lead < 1) {
      throw new IllegalArgumentException("lead must be >= 1, was " + lead);
    }
    int n = trace.length();
    double[] alloc = new double[n];
    int shown = 0;
    long start = System.nanoTime();
    for (int t = 0; t < n; t++) {
      while (shown <= t - lead) {
        policy.observe(trace.value(shown++));
      }
      double a = policy.allocate(t);
      if (!Double.isFinite(a) || a < 0) {
        throw new IllegalStateException(
            "policy " + policy.name() + " allocated " + a + " for interval " + t + " of " + trace.name());
      }
      alloc[t] = a;
    }
    long nanos = System.nanoTime() - start;
    return PolicyRun.score(trace, policy.name(), alloc, warmup(trace), budget, nanos);
  }
}
