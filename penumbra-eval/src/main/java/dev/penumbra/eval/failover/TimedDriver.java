package dev.penumbra.eval.failover;

import dev.penumbra.failover.NodeDriver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The benchmark's view of a node driver: passes every call through and records when each began and ended
 * ({@link System#nanoTime()}), so the benchmark knows when a node's standbys existed and when its moves ended.
 * Closing it closes nothing (the wrapped driver has its owner); it is one of the benchmark's resources for scope.
 */
final class TimedDriver implements NodeDriver, AutoCloseable {

  /** One call: what, on which node, when it began and ended (Long.MAX_VALUE while running or when it failed). */
  record Call(String what, long startNanos, long endNanos) {}

  private final NodeDriver driver;
  private final Map<String, List<Call>> calls = new ConcurrentHashMap<>();

  TimedDriver(NodeDriver driver) {
    this.driver = driver;
  }

  private interface Body {
    void run() throws Exception;
  }

  private void timed(String node, String what, Body body) throws Exception {
    long start = System.nanoTime();
    long end = Long.MAX_VALUE;
    try {
      body.run();
      end = System.nanoTime();
    } finally {
      List<Call> l = calls.computeIfAbsent(node, k -> new ArrayList<>());
      synchronized (l) {
        l.add(new Call(what, start, end));
      }
    }
  }

  /** The node's calls so far, in the order they ended. */
  List<Call> calls(String node) {
    List<Call> l = calls.getOrDefault(node, List.of());
    synchronized (l) {
      return List.copyOf(l);
    }
  }

  @Override
  public void close() {
    // The wrapped driver is closed by its owner.
  }

  @Override
  public boolean healthy(String node) {
    return driver.healthy(node);
  }

  @Override
  public void provisionStandby(String node) throws Exception {
    timed(node, "provision", () -> driver.provisionStandby(node));
  }

  @Override
  public void decommissionStandby(String node) throws Exception {
    timed(node, "decommission", () -> driver.decommissionStandby(node));
  }

  @Override
  public void promoteStandby(String node) throws Exception {
    timed(node, "promote", () -> driver.promoteStandby(node));
  }

  @Override
  public void replaceFromArchive(String node) throws Exception {
    timed(node, "replace", () -> driver.replaceFromArchive(node));
  }

  /**
   * Seconds of standby the node had after its first move ended at {@code moveEnd}: each standby provisioned after
   * it, from the start of its provisioning to its decommissioning, the next move, or {@code end}.
   */
  double standbySecondsAfter(String node, long moveEnd, long end) {
    List<Call> l = calls(node);
    double total = 0;
    for (int i = 0; i < l.size(); i++) {
      Call c = l.get(i);
      if (!c.what().equals("provision") || c.startNanos() < moveEnd) {
        continue;
      }
      long until = end;
      for (Call next : l.subList(i + 1, l.size())) {
        if (next.startNanos() >= c.startNanos() && !next.what().equals("provision")) {
          until = Math.min(end, next.what().equals("decommission") ? next.endNanos() : next.startNanos());
          break;
        }
      }
      total += Math.max(0, until - c.startNanos()) / 1e9;
    }
    return total;
  }

  /** The end of the node's first completed move, or Long.MAX_VALUE. */
  long firstMoveEnd(String node) {
    for (Call c : calls(node)) {
      if ((c.what().equals("promote") || c.what().equals("replace")) && c.endNanos() != Long.MAX_VALUE) {
        return c.endNanos();
      }
    }
    return Long.MAX_VALUE;
  }

  /** The end of the first standby provisioned after {@code from}, or Long.MAX_VALUE. */
  long firstReadyAfter(String node, long from) {
    long first = Long.MAX_VALUE;
    for (Call c : calls(node)) {
      if (c.what().equals("provision") && c.startNanos() >= from && c.endNanos() != Long.MAX_VALUE) {
        first = Math.min(first, c.endNanos());
      }
    }
    return first;
  }
}
