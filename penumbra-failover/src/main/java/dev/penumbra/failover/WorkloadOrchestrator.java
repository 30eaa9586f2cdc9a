package dev.penumbra.failover;

import dev.penumbra.core.Checks;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workload orchestrator: moves a node's work off it before it fails (risk >= the promote threshold with a ready
 * standby) or as soon as its failure is detected (its primary fails {@code failuresToDetect} health checks in a row;
 * call {@link #checkHealth()} at the detection interval). With a ready standby the driver fences the old primary,
 * promotes the standby and redirects clients; without one it replaces the node from the archive. Every move is
 * recorded as a {@link FailoverEvent}.
 *
 * <p>Thread-safe; one move per node at a time, moves of different nodes in parallel.
 */
public final class WorkloadOrchestrator {

  private static final Logger LOG = LoggerFactory.getLogger(WorkloadOrchestrator.class);

  private final ShadowNodeManager manager;
  private final NodeDriver driver;
  private final Executor moves;
  private final int failuresToDetect;
  private final Map<String, Integer> failedChecks = new HashMap<>();
  private final Set<String> moving = new HashSet<>();
  private final List<FailoverEvent> events = new ArrayList<>();

  /**
   * An orchestrator acting on {@code manager}'s nodes; it listens to the risks the manager observes.
   *
   * @param failuresToDetect consecutive failed health checks that make a failure (>= 1)
   */
  public WorkloadOrchestrator(ShadowNodeManager manager, int failuresToDetect) {
    // One thread per move: a slow replacement must not delay the detection or the move of another node.
    this(manager, failuresToDetect, r -> Thread.ofPlatform().name("move").daemon().start(r));
  }

  /** As above; moves run on {@code moves} (tests pass {@code Runnable::run} to move in the caller's thread). */
  WorkloadOrchestrator(ShadowNodeManager manager, int failuresToDetect, Executor moves) {
    this.moves = moves;
    Checks.notNull("manager", manager);
    Checks.atLeast("failuresToDetect", failuresToDetect, 1);
    this.manager = manager;
    this.driver = manager.driver();
    this.failuresToDetect = failuresToDetect;
    manager.onRisk(this::onRisk);
  }

  private void onRisk(String node, double risk) {
    if (risk >= manager.thresholds().promote() && manager.status(node).standby() == StandbyState.READY) {
      moves.execute(() -> move(node, FailoverEvent.Cause.PLANNED, risk, true));
    }
  }

  /**
   * One round of health checks over every node; starts moving the nodes found failed (moves run on their own
   * threads; {@link #events()} has them when done).
   *
   * @return the nodes whose failure this round detected
   */
  public List<String> checkHealth() {
    List<String> detected = new ArrayList<>();
    for (String node : manager.nodes()) {
      synchronized (this) {
        if (moving.contains(node)) {
          continue;
        }
      }
      boolean ok = driver.healthy(node);
      synchronized (this) {
        int n = ok ? 0 : failedChecks.getOrDefault(node, 0) + 1;
        failedChecks.put(node, n);
        if (n >= failuresToDetect) {
          detected.add(node);
        }
      }
    }
    for (String node : detected) {
      double risk = manager.status(node).risk();
      moves.execute(() -> move(node, FailoverEvent.Cause.DETECTED, risk, false));
    }
    return detected;
  }

  /**
   * Moves the node's work now, in the caller's thread (a manual promotion when it has a ready standby, else a
   * replacement); null when a move of it is already under way.
   */
  public FailoverEvent moveNow(String node) {
    manager.status(node);
    return move(node, FailoverEvent.Cause.PLANNED, manager.status(node).risk(), false);
  }

  /**
   * @param onlyToStandby a move the risk triggered: only onto a ready standby. Two triggers may queue a move for the
   *     same risk (the observation and the standby becoming ready); the second finds the work moved already.
   */
  private FailoverEvent move(String node, FailoverEvent.Cause cause, double risk, boolean onlyToStandby) {
    synchronized (this) {
      if (!moving.add(node)) {
        return null;
      }
    }
    if (onlyToStandby && manager.status(node).standby() != StandbyState.READY) {
      synchronized (this) {
        moving.remove(node);
      }
      return null;
    }
    Instant started = manager.clock().instant();
    long t0 = System.nanoTime();
    boolean ready = manager.beginMove(node);
    String error = null;
    boolean promoted = false;
    try {
      if (ready) {
        driver.promoteStandby(node);
        promoted = true;
      } else {
        driver.replaceFromArchive(node);
      }
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      error = e.toString();
      LOG.error("moving node '{}' ({}) failed: {}", node, cause, e.toString());
    }
    long millis = (System.nanoTime() - t0) / 1_000_000;
    manager.endMove(node, promoted);
    FailoverEvent ev = new FailoverEvent(node, cause, ready, risk, started, millis, error);
    synchronized (this) {
      events.add(ev);
      failedChecks.put(node, 0);
      moving.remove(node);
    }
    LOG.info("node '{}' moved: {}", node, ev);
    return ev;
  }

  /** Every move so far, in order. */
  public synchronized List<FailoverEvent> events() {
    return List.copyOf(events);
  }
}
