package dev.penumbra.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Priority;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ShardGeneratorTest {

  static ShardRequest random(long seed) {
    Random r = new Random(seed);
    int units = 1 + r.nextInt(4);
    java.util.ArrayList<Unit> us = new java.util.ArrayList<>();
    for (int i = 0; i < units; i++) {
      long from = r.nextInt(1000) - 500;
      Unit u = Unit.of("u" + i, "f" + (i % 2), KeyRange.of(from, from + 1 + r.nextInt(300)));
      if (i > 0 && r.nextBoolean()) {
        u = u.after("u" + r.nextInt(i));
      }
      us.add(u);
    }
    return new ShardRequest("r" + seed, "t", Priority.STANDARD, us);
  }

  /** Every key of every unit is in exactly one shard of that unit, and in no other. */
  static void assertExactCover(ShardRequest req, List<Shard> shards) {
    for (Unit u : req.units()) {
      List<Shard> mine = shards.stream().filter(s -> s.unit().equals(u.name())).toList();
      assertThat(mine).isNotEmpty();
      long total = 0;
      for (Shard s : mine) {
        assertThat(u.keys().covers(s.subset().range())).isTrue();
        total += s.keys();
      }
      assertThat(total).as("keys of %s", u.name()).isEqualTo(u.keys().size());
      for (long k = u.keys().from(); k < u.keys().to(); k++) {
        long key = k;
        assertThat(mine.stream().filter(s -> s.subset().contains(key)).count()).as("key %d of %s", key, u.name())
            .isEqualTo(1);
      }
    }
    assertThat(shards.stream().map(Shard::id).distinct().count()).isEqualTo(shards.size());
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
  void everyPolicyCoversEachUnitExactlyOnce(long seed) {
    ShardRequest req = random(seed);
    int k = 1 + new Random(seed * 31).nextInt(7);
    int minKeys = (int) req.units().stream().mapToLong(u -> u.keys().size()).min().orElseThrow();
    int n = Math.min(k, minKeys);
    assertExactCover(req, ShardGenerator.generate(req, ShardPolicy.FUNCTIONAL, 1));
    assertExactCover(req, ShardGenerator.generate(req, ShardPolicy.KEY_RANGE, n));
    assertExactCover(req, ShardGenerator.generate(req, ShardPolicy.HASH, n));
    assertExactCover(req, ShardGenerator.generate(req, ShardPolicy.PREDICTED,
        u -> (int) Math.max(1, Math.min(u.keys().size(), u.keys().size() / 37))));
  }

  @Test
  void keyRangesDifferByAtMostOneKey() {
    List<Subset> r = ShardGenerator.ranges(KeyRange.of(10, 33), 5);
    assertThat(r).extracting(Subset::size).containsExactly(5L, 5L, 5L, 4L, 4L);
    assertThat(r.get(0).range().from()).isEqualTo(10);
    assertThat(r.get(4).range().to()).isEqualTo(33);
  }

  @Test
  void hashSubsetsMatchTheirSqlPredicate() {
    Subset s = new Subset(KeyRange.of(3, 20), 4, 1);
    assertThat(s.size()).isEqualTo(4); // 5, 9, 13, 17
    assertThat(s.sqlPredicate("k")).isEqualTo("k >= 3 AND k < 20 AND ((k % 4) + 4) % 4 = 1");
  }

  @Test
  void shardsOfAStageDependOnEveryShardOfTheStagesTheyRead() {
    ShardRequest req = new ShardRequest("q", "t", Priority.BATCH, List.of(
        Unit.of("scan", "scan", KeyRange.of(0, 100)),
        Unit.of("join", "join", KeyRange.of(0, 50)).after("scan"),
        Unit.of("agg", "agg", KeyRange.of(0, 10)).after("join", "scan")));
    List<Shard> shards = ShardGenerator.generate(req, ShardPolicy.KEY_RANGE, 3);
    Map<String, Shard> byId = new HashMap<>();
    shards.forEach(s -> byId.put(s.id(), s));
    assertThat(byId.get("q/scan/0").dependsOn()).isEmpty();
    assertThat(byId.get("q/join/2").dependsOn()).containsExactlyInAnyOrder("q/scan/0", "q/scan/1", "q/scan/2");
    assertThat(byId.get("q/agg/1").dependsOn()).hasSize(6);
    assertThat(req.stages()).containsEntry("scan", 0).containsEntry("join", 1).containsEntry("agg", 2);
  }

  @Test
  void badInputNamesTheFieldAndValue() {
    assertThatThrownBy(() -> new ShardRequest("r", "t", Priority.BATCH, List.of()))
        .hasMessageContaining("request 'r' is empty");
    assertThatThrownBy(() -> ShardPolicy.parse("zigzag")).hasMessageContaining("a sharding policy must be one of")
        .hasMessageContaining("was 'zigzag'");
    // One spelling per value: case, padding and '_' variants are refused, not guessed.
    for (String near : new String[] {"HASH", " hash", "key_range"}) {
      assertThatThrownBy(() -> ShardPolicy.parse(near)).hasMessageContaining("was '" + near + "'");
    }
    assertThat(ShardPolicy.parse("key-range")).isEqualTo(ShardPolicy.KEY_RANGE);
    ShardRequest req = new ShardRequest("r", "t", Priority.BATCH, List.of(Unit.of("u", "f", KeyRange.of(0, 100))));
    assertThatThrownBy(() -> ShardGenerator.generate(req, ShardPolicy.KEY_RANGE, 0))
        .hasMessageContaining("shards must be >= 1, was 0");
    assertThatThrownBy(() -> ShardGenerator.generate(req, ShardPolicy.HASH, 101))
        .hasMessageContaining("shards 101 exceed its 100 keys");
    assertThatThrownBy(() -> ShardGenerator.fromRanges(req, Map.of("u", List.of(KeyRange.of(0, 40), KeyRange.of(50, 100)))))
        .hasMessageContaining("leaves keys [40, 50) uncovered");
    assertThatThrownBy(() -> ShardGenerator.fromRanges(req, Map.of("u", List.of(KeyRange.of(0, 60)))))
        .hasMessageContaining("end at 60 and do not cover [0, 100)");
    assertThatThrownBy(() -> ShardGenerator.fromRanges(req, Map.of("u", List.of(KeyRange.of(0, 60), KeyRange.of(50, 100)))))
        .hasMessageContaining("overlaps");
    assertThatThrownBy(() -> new ShardRequest("r", "t", Priority.BATCH, List.of(
        Unit.of("a", "f", KeyRange.of(0, 1)).after("b"), Unit.of("b", "f", KeyRange.of(0, 1)).after("a"))))
        .hasMessageContaining("cycle");
    assertThatThrownBy(() -> KeyRange.of(5, 5)).hasMessageContaining("from 5, to 5");
    assertExactCover(req, ShardGenerator.fromRanges(req, Map.of("u", List.of(KeyRange.of(0, 7), KeyRange.of(7, 100)))));
  }
}
