package dev.penumbra.shard;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * Cuts a request into shards. Each unit's keys are covered exactly once (no key missing, none twice); the shards
 * of a unit depend on every shard of the units it depends on, so a stage starts only when the stages it reads are
 * done. Validates everything before returning anything.
 */
public final class ShardGenerator {

  private ShardGenerator() {}

  /**
   * Shards under a fixed policy: {@code shards} per unit for {@link ShardPolicy#KEY_RANGE} and
   * {@link ShardPolicy#HASH}; one per unit for {@link ShardPolicy#FUNCTIONAL} (where {@code shards} must be 1).
   * {@link ShardPolicy#PREDICTED} needs per-unit counts: use {@link #generate(ShardRequest, ShardPolicy,
   * ToIntFunction)}.
   */
  public static List<Shard> generate(ShardRequest request, ShardPolicy policy, int shards) {
    if (policy == ShardPolicy.FUNCTIONAL && shards != 1) {
      throw new IllegalArgumentException("shards must be 1 for policy functional, was " + shards);
    }
    if (policy == ShardPolicy.PREDICTED) {
      throw new IllegalArgumentException("policy predicted needs a count per unit from the predictor");
    }
    return generate(request, policy, u -> shards);
  }

  /** Shards with a count per unit: contiguous key ranges (KEY_RANGE, PREDICTED, FUNCTIONAL) or hash buckets. */
  public static List<Shard> generate(ShardRequest request, ShardPolicy policy, ToIntFunction<Unit> count) {
    if (request == null) {
      throw new IllegalArgumentException("request is missing");
    }
    if (policy == null) {
      throw new IllegalArgumentException("policy is missing for request '" + request.id() + "'");
    }
    Map<String, List<Subset>> subsets = new HashMap<>();
    for (Unit u : request.units()) {
      int k = policy == ShardPolicy.FUNCTIONAL ? 1 : count.applyAsInt(u);
      if (k < 1) {
        throw new IllegalArgumentException("request '" + request.id() + "' unit '" + u.name()
            + "': shards must be >= 1, was " + k);
      }
      if (k > u.keys().size()) {
        throw new IllegalArgumentException("request '" + request.id() + "' unit '" + u.name() + "': shards " + k
            + " exceed its " + u.keys().size() + " keys " + u.keys());
      }
      subsets.put(u.name(), policy == ShardPolicy.HASH ? buckets(u.keys(), k) : ranges(u.keys(), k));
    }
    return build(request, subsets);
  }

  /**
   * Shards from explicit key ranges per unit. The ranges of each unit must cover its keys exactly: sorted,
   * contiguous, from its first key to its end. Every unit must be given.
   */
  public static List<Shard> fromRanges(ShardRequest request, Map<String, List<KeyRange>> ranges) {
    if (request == null) {
      throw new IllegalArgumentException("request is missing");
    }
    if (ranges == null) {
      throw new IllegalArgumentException("ranges are missing for request '" + request.id() + "'");
    }
    Map<String, List<Subset>> subsets = new HashMap<>();
    for (String name : ranges.keySet()) {
      if (request.units().stream().noneMatch(u -> u.name().equals(name))) {
        throw new IllegalArgumentException("request '" + request.id() + "' has no unit '" + name + "' to cut");
      }
    }
    for (Unit u : request.units()) {
      List<KeyRange> rs = ranges.get(u.name());
      if (rs == null || rs.isEmpty()) {
        throw new IllegalArgumentException("request '" + request.id() + "' unit '" + u.name() + "': zero shards given");
      }
      long at = u.keys().from();
      List<Subset> list = new ArrayList<>();
      for (KeyRange r : rs) {
        if (r.from() != at) {
          throw new IllegalArgumentException("request '" + request.id() + "' unit '" + u.name() + "': key range " + r
              + (r.from() > at ? " leaves keys [" + at + ", " + r.from() + ") uncovered" : " overlaps keys before " + at)
              + " of " + u.keys());
        }
        at = r.to();
        list.add(Subset.of(r));
      }
      if (at != u.keys().to()) {
        throw new IllegalArgumentException("request '" + request.id() + "' unit '" + u.name() + "': key ranges "
            + (at < u.keys().to() ? "end at " + at + " and do not cover " : "run past the end of ") + u.keys());
      }
      subsets.put(u.name(), list);
    }
    return build(request, subsets);
  }

  /** {@code k} contiguous ranges differing in size by at most one key. */
  static List<Subset> ranges(KeyRange keys, int k) {
    List<Subset> out = new ArrayList<>(k);
    long n = keys.size();
    long base = n / k;
    long extra = n % k;
    long prev = keys.from();
    for (int i = 1; i <= k; i++) {
      // The first (n mod k) ranges get one key more.
      long end = keys.from() + base * i + Math.min(i, extra);
      out.add(Subset.of(new KeyRange(prev, end)));
      prev = end;
    }
    return out;
  }

  static List<Subset> buckets(KeyRange keys, int k) {
    List<Subset> out = new ArrayList<>(k);
    for (int b = 0; b < k; b++) {
      out.add(new Subset(keys, k, b));
    }
    return out;
  }

  private static List<Shard> build(ShardRequest request, Map<String, List<Subset>> subsets) {
    Map<String, List<String>> idsByUnit = new HashMap<>();
    for (Unit u : request.units()) {
      List<String> ids = new ArrayList<>();
      List<Subset> s = subsets.get(u.name());
      for (int i = 0; i < s.size(); i++) {
        ids.add(request.id() + "/" + u.name() + "/" + i);
      }
      idsByUnit.put(u.name(), ids);
    }
    List<Shard> out = new ArrayList<>();
    for (Unit u : request.units()) {
      Set<String> deps = new LinkedHashSet<>();
      for (String d : u.dependsOn()) {
        deps.addAll(idsByUnit.get(d));
      }
      List<Subset> s = subsets.get(u.name());
      List<String> ids = idsByUnit.get(u.name());
      for (int i = 0; i < s.size(); i++) {
        out.add(new Shard(ids.get(i), request.id(), u.name(), u.function(), s.get(i), deps, request.priority()));
      }
    }
    return List.copyOf(out);
  }
}
