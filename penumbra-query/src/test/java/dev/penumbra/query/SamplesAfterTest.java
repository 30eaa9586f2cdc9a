package dev.penumbra.query;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class SamplesAfterTest {

  private static SamplesAfter.Pending pending(String fp) {
    return new SamplesAfter.Pending(fp, "SELECT 1", Duration.ofSeconds(1), 0, null, null);
  }

  @Test
  void aSampleThatThrowsDoesNotStopTheOnesAfterIt() throws Exception {
    List<String> ran = new CopyOnWriteArrayList<>();
    List<String> dropped = new CopyOnWriteArrayList<>();
    try (SamplesAfter samples = new SamplesAfter(p -> {
      ran.add(p.fingerprint());
      if (p.fingerprint().equals("bad")) {
        throw new IllegalStateException("learning failed");
      }
    }, p -> dropped.add(p.fingerprint()))) {
      samples.offer(pending("bad"));
      assertThat(samples.awaitDone(Duration.ofSeconds(30))).isTrue();
      samples.offer(pending("good"));
      assertThat(samples.awaitDone(Duration.ofSeconds(30))).isTrue();
    }
    assertThat(ran).containsExactly("bad", "good");
    assertThat(dropped).isEmpty();
  }

  @Test
  void samplesWaitWhileAQueryIsInTheGateway() throws Exception {
    List<String> ran = new CopyOnWriteArrayList<>();
    try (SamplesAfter samples = new SamplesAfter(p -> ran.add(p.fingerprint()), p -> { })) {
      samples.enter();
      samples.offer(pending("a"));
      assertThat(samples.awaitDone(Duration.ofMillis(50))).isFalse();
      assertThat(ran).isEmpty();
      samples.leave();
      assertThat(samples.awaitDone(Duration.ofSeconds(30))).isTrue();
    }
    assertThat(ran).containsExactly("a");
  }
}
