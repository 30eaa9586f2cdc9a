package dev.penumbra.failover;

import dev.penumbra.core.Checks;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The failure prediction engine: turns each node's telemetry, one SMART snapshot per interval, into its failure
 * probability within the model's horizon. It keeps each node's last few snapshots (what the features' growth terms
 * read) and nothing else. Thread-safe.
 */
public final class FailurePredictionEngine {

  private final RiskModel model;
  private final Map<String, List<SmartRecord>> recent = new HashMap<>();

  public FailurePredictionEngine(RiskModel model) {
    Checks.notNull("risk model", model);
    this.model = model;
  }

  public RiskModel model() {
    return model;
  }

  /**
   * Records {@code node}'s newest snapshot and returns its failure probability.
   *
   * @throws IllegalArgumentException when the snapshot is not newer than the node's previous one, or belongs to
   *     another drive than the node's earlier ones; nothing is recorded then
   */
  public synchronized double observe(String node, SmartRecord snapshot) {
    if (node == null || node.isBlank() || snapshot == null) {
      throw new IllegalArgumentException("node and snapshot must be given, were '" + node + "' and " + snapshot);
    }
    List<SmartRecord> h = recent.computeIfAbsent(node, k -> new ArrayList<>());
    List<SmartRecord> next = new ArrayList<>(h);
    next.add(snapshot);
    // Validates order and drive identity before anything is kept.
    double p = model.probability(FailureFeatures.of(next));
    while (next.size() > FailureFeatures.DELTA_DAYS + 1) {
      next.remove(0);
    }
    h.clear();
    h.addAll(next);
    return p;
  }

  /** Forgets a node's telemetry (it moved to new hardware). */
  public synchronized void forget(String node) {
    recent.remove(node);
  }
}
