package dev.penumbra.eval.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The options of {@code bench cluster --reach}: bad values refused naming the field and the value. */
class ReachBenchTest {

  private static ReachBench.Options options(int trials, Duration down, Map<String, String> raft) {
    return new ReachBench.Options(trials, down, Path.of("target"), true, Duration.ofMillis(100), raft,
        Duration.ofSeconds(60), Set.of());
  }

  @Test
  void badOptionsAreRefusedWithTheValue() {
    assertThatThrownBy(() -> options(0, Duration.ofSeconds(1), Map.of()))
        .hasMessage("trials must be 1..100, was 0");
    assertThatThrownBy(() -> options(1, Duration.ofSeconds(-1), Map.of()))
        .hasMessage("down must be in [0, 5 min], was PT-1S");
    assertThatThrownBy(() -> options(1, Duration.ofSeconds(1), Map.of("server.x", "1")))
        .hasMessage("raft keys must start with 'raft.', was 'server.x'");
    assertThatThrownBy(() -> new ReachBench.Options(1, Duration.ZERO, Path.of("target"), true, Duration.ofMillis(10),
        Map.of(), Duration.ofSeconds(60), Set.of())).hasMessage("electionTimeout must be 50 ms .. 60 s, was PT0.01S");
  }

  @Test
  void noCasesMeansEveryCase() {
    assertThat(options(1, Duration.ZERO, Map.of()).cases()).containsExactlyInAnyOrder(ReachBench.Case.values());
  }
}
