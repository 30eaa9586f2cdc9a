package dev.penumbra.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Resources;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShardHistoryTest {

  @Test
  void estimatesFromTheMostSimilarLevelWithEnoughProfiles() throws Exception {
    try (ShardHistory h = ShardHistory.open("jdbc:duckdb:", 3, 7.0)) {
      assertThat(h.estimate("t", "scan", 1000).basis()).isEqualTo("prior");
      assertThat(h.estimate("t", "scan", 1000).p50()).isEqualTo(7.0);
      List<ShardProfile> ps = new ArrayList<>();
      for (int i = 1; i <= 10; i++) {
        // 1000-key units at i ms per key; 100 000-key units at 100 ms per key.
        ps.add(new ShardProfile("r" + i, "t", "scan", 5000, 1000, 100, Resources.cpu(500), 100.0 * i));
        ps.add(new ShardProfile("s" + i, "t", "scan", 500_000, 100_000, 10, Resources.cpu(500), 1000));
      }
      h.record(ps);
      assertThat(h.size()).isEqualTo(20);
      CostEstimate small = h.estimate("t", "scan", 1500);
      assertThat(small.basis()).isEqualTo("size");
      assertThat(small.samples()).isEqualTo(10);
      assertThat(small.p50()).isCloseTo(5.5, org.assertj.core.data.Offset.offset(1e-9));
      assertThat(small.p90()).isGreaterThan(small.p50());
      assertThat(h.estimate("t", "scan", 100_000).p50()).isEqualTo(100.0);
      assertThat(h.estimate("t", "join", 1000).basis()).isEqualTo("type");
      assertThat(h.estimate("other", "scan", 1000).basis()).isEqualTo("prior");
    }
  }

  @Test
  void badInputIsRejected() {
    assertThatThrownBy(() -> ShardHistory.open("jdbc:mysql://x", 3, 1)).hasMessageContaining("jdbc:mysql://x");
    assertThatThrownBy(() -> ShardHistory.open("jdbc:duckdb:", 0, 1)).hasMessageContaining("minSamples must be >= 1, was 0");
    assertThatThrownBy(() -> new ShardProfile("r", "t", "f", 10, 20, 5, Resources.ZERO, 1))
        .hasMessageContaining("5, 20, 10");
  }
}
