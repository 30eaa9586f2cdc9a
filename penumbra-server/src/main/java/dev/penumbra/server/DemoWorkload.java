package dev.penumbra.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built-in workload of {@code penumbra demo}: for every capability, {@code clients} threads each
 * performing the capability's demo step (a query of mixed priority from the TPC-H workload, a batch of records
 * to the demo stream at a daily-with-bursts rate, a phased task), pausing between steps, until {@link #close()}.
 */
public final class DemoWorkload implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DemoWorkload.class);
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicLong steps = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final java.util.Map<String, AtomicLong> perCapability = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile boolean running = true;
  private final List<String> names = new ArrayList<>();

  private DemoWorkload() {}

  /** Starts the workload against the capabilities of {@code server} (waiting for each to be ready). */
  public static DemoWorkload start(PenumbraServer server, ServerConfig.Demo demo) {
    DemoWorkload w = new DemoWorkload();
    int k = 0;
    for (Capability c : server.capabilities()) {
      w.names.add(c.name());
      for (int i = 0; i < demo.clients(); i++) {
        Random random = new Random(demo.seed() + 1000L * k++);
        Thread t = Thread.ofPlatform().daemon().name("demo-" + c.name() + "-" + i).start(() -> w.loop(c, random,
            demo.pause().toMillis()));
        w.threads.add(t);
      }
    }
    return w;
  }

  private void loop(Capability c, Random random, long pauseMillis) {
    try {
      while (running) {
        if (!c.view().ready()) {
          // Readiness comes and goes (a database being prepared, a cluster between leaders) with no event to wait
          // on; a demo client may look again a tenth of a second later.
          Thread.sleep(100);
          continue;
        }
        try {
          c.demoStep(random);
          steps.incrementAndGet();
          perCapability.computeIfAbsent(c.name(), k -> new AtomicLong()).incrementAndGet();
        } catch (InterruptedException e) {
          throw e;
        } catch (Exception e) {
          failures.incrementAndGet();
          if (running) {
            LOG.warn("demo step of {} failed: {}", c.name(), e.getMessage() != null ? e.getMessage() : e.toString());
          }
        }
        Thread.sleep(pauseMillis); // the demo's pace between steps (demo.pause)
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Demo steps completed. */
  public long steps() {
    return steps.get();
  }

  /** Demo steps completed by each capability, by name (in the server's order). */
  public java.util.Map<String, Long> stepsByCapability() {
    java.util.Map<String, Long> m = new java.util.LinkedHashMap<>();
    for (String name : names) {
      AtomicLong n = perCapability.get(name);
      m.put(name, n == null ? 0 : n.get());
    }
    return m;
  }

  /** Demo steps that failed. */
  public long failures() {
    return failures.get();
  }

  /** Stops the clients and waits for their current step to finish. */
  @Override
  public void close() {
    running = false;
    for (Thread t : threads) {
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
