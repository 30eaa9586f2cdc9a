package dev.penumbra.eval.shard;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TpchShardCheckTest {

  @TempDir
  Path dir;

  @Test
  void mergedShardedAnswersEqualTheUnshardedOneEvenWithABackendKilled() throws Exception {
    List<TpchShardCheck.Outcome> out = TpchShardCheck.run(dir, 0.01, 7);
    assertThat(out).extracting(TpchShardCheck.Outcome::run)
        .containsExactly("key-range", "hash", "predicted", "key-range + backend killed");
    assertThat(out).allSatisfy(o -> {
      assertThat(o.identical()).as(o.run()).isTrue();
      assertThat(o.groups()).isEqualTo(4);
      assertThat(o.shards()).isGreaterThan(1);
    });
    assertThat(out.get(3).lost()).isPositive();
    assertThat(out.get(3).retries()).isPositive();
  }
}
