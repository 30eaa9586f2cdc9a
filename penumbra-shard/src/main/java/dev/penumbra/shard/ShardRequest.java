package dev.penumbra.shard;

import dev.penumbra.core.Priority;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A large piece of work to be cut into shards: a DAG of units.
 *
 * @param id unique among live requests; shard ids derive from it
 * @param type what kind of request it is; the history is kept per type
 * @param priority from its SLA: shards' reservations are sized at its quantile
 * @param units at least one; names unique; every dependency names another unit; no cycles
 */
public record ShardRequest(String id, String type, Priority priority, List<Unit> units) {

  public ShardRequest {
    if (id == null || id.isBlank() || id.contains("/")) {
      throw new IllegalArgumentException("request id must be non-blank and free of '/', was '" + id + "'");
    }
    if (type == null || type.isBlank()) {
      throw new IllegalArgumentException("request '" + id + "' type must not be blank, was '" + type + "'");
    }
    if (priority == null) {
      throw new IllegalArgumentException("request '" + id + "' priority is missing");
    }
    if (units == null || units.isEmpty()) {
      throw new IllegalArgumentException("request '" + id + "' is empty: it has no units");
    }
    units = List.copyOf(units);
    Map<String, Unit> byName = new LinkedHashMap<>();
    for (Unit u : units) {
      if (u.name().contains("/")) {
        throw new IllegalArgumentException("request '" + id + "' unit name must be free of '/', was '" + u.name() + "'");
      }
      if (byName.put(u.name(), u) != null) {
        throw new IllegalArgumentException("request '" + id + "' has unit '" + u.name() + "' twice");
      }
    }
    for (Unit u : units) {
      for (String d : u.dependsOn()) {
        if (!byName.containsKey(d)) {
          throw new IllegalArgumentException(
              "request '" + id + "' unit '" + u.name() + "' depends on unknown unit '" + d + "'");
        }
      }
    }
    stages(id, units);
  }

  /** The total number of keys over all units. */
  public long keys() {
    long n = 0;
    for (Unit u : units) {
      n = Math.addExact(n, u.keys().size());
    }
    return n;
  }

  /** Each unit's stage: 0 without dependencies, else one more than its deepest dependency. */
  public Map<String, Integer> stages() {
    return stages(id, units);
  }

  private static Map<String, Integer> stages(String id, List<Unit> units) {
    Map<String, Integer> indegree = new HashMap<>();
    Map<String, List<String>> next = new HashMap<>();
    for (Unit u : units) {
      indegree.put(u.name(), u.dependsOn().size());
      for (String d : u.dependsOn()) {
        next.computeIfAbsent(d, k -> new ArrayList<>()).add(u.name());
      }
    }
    Map<String, Integer> stage = new LinkedHashMap<>();
    Deque<String> ready = new ArrayDeque<>();
    for (Unit u : units) {
      if (u.dependsOn().isEmpty()) {
        ready.add(u.name());
        stage.put(u.name(), 0);
      }
    }
    while (!ready.isEmpty()) {
      String n = ready.poll();
      for (String m : next.getOrDefault(n, List.of())) {
        stage.merge(m, stage.get(n) + 1, Math::max);
        if (indegree.merge(m, -1, Integer::sum) == 0) {
          ready.add(m);
        }
      }
    }
    if (stage.size() < units.size() || indegree.values().stream().anyMatch(v -> v > 0)) {
      List<String> cyclic = new ArrayList<>();
      indegree.forEach((k, v) -> {
        if (v > 0) {
          cyclic.add(k);
        }
      });
      throw new IllegalArgumentException("request '" + id + "' units depend on each other in a cycle: " + cyclic);
    }
    return stage;
  }
}
