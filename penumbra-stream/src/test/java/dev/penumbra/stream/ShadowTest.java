package dev.penumbra.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class ShadowTest {

  @Test
  void aStalledShadowDropsAndCountsButNeverHoldsThePrimary() throws Exception {
    CountDownLatch stall = new CountDownLatch(1);
    RecordProcessor primary = r -> { };
    int records = 20_000;
    try (Shadow shadow = Shadow.start("stalled", r -> stall.await(), 8);
        EmbeddedStream stream = EmbeddedStream.builder(2, primary).shadow(Sampling.everyNth(1.0), shadow).build()) {
      long t0 = System.nanoTime();
      for (int i = 0; i < records; i++) {
        stream.submit(new StreamRecord(i % 2, "k" + i, null));
      }
      assertThat(stream.awaitIdle(Duration.ofSeconds(20))).isTrue();
      double seconds = (System.nanoTime() - t0) / 1e9;
      // Every record was sampled; the shadow holds one in flight and 8 buffered, and dropped the rest.
      long offered = shadow.stats(0).offered() + shadow.stats(1).offered();
      long dropped = shadow.stats(0).dropped() + shadow.stats(1).dropped();
      assertThat(offered).isEqualTo(records);
      assertThat(dropped).isBetween((long) records - 9, (long) records - 8);
      assertThat(stream.stats(0).processed() + stream.stats(1).processed()).isEqualTo(records);
      assertThat(seconds).as("the primary ran while the shadow was stalled").isLessThan(15);
      stall.countDown();
    }
  }

  @Test
  void aFailingShadowIsCountedAndThePrimaryIsUnaffected() throws Exception {
    try (Shadow shadow = Shadow.start("failing", r -> {
      throw new IllegalStateException("boom");
    }, 1000);
        EmbeddedStream stream = EmbeddedStream.builder(1, r -> { }).shadow(Sampling.everyNth(0.5), shadow).build()) {
      for (int i = 0; i < 400; i++) {
        stream.submit(new StreamRecord(0, "k", null));
      }
      assertThat(stream.awaitIdle(Duration.ofSeconds(10))).isTrue();
      assertThat(shadow.awaitIdle(Duration.ofSeconds(10))).isTrue();
      ShadowStats st = shadow.stats(0);
      assertThat(st.offered()).isEqualTo(200);
      assertThat(st.failed()).isEqualTo(200);
      assertThat(st.processed()).isZero();
      assertThat(stream.stats(0).processed()).isEqualTo(400);
      assertThat(stream.stats(0).failed()).isZero();
      assertThat(stream.stats(0).sampled()).isEqualTo(200);
    }
  }

  @Test
  void measuresCpuAndAllocatedBytesPerRecord() throws Exception {
    try (Shadow shadow = Shadow.start("measure", r -> {
      long[] garbage = new long[16_384]; // 128 KiB
      long h = 0;
      long end = System.nanoTime() + 2_000_000;
      while (System.nanoTime() < end) {
        h += garbage.length ^ h;
      }
      garbage[(int) (h & 1)] = h;
      if (garbage[0] == 42 && garbage[1] == 42) {
        throw new IllegalStateException();
      }
    }, 100)) {
      for (int i = 0; i < 20; i++) {
        assertThat(shadow.offer(new StreamRecord(3, "k", null))).isTrue();
      }
      assertThat(shadow.awaitIdle(Duration.ofSeconds(20))).isTrue();
      ShadowStats st = shadow.stats(3);
      assertThat(st.processed()).isEqualTo(20);
      // About 2 ms of busy-waiting each; CPU time is below wall time on a busy machine, so only a floor.
      assertThat(st.cpuSecondsPerRecord()).isGreaterThan(0.2e-3).isLessThan(0.05);
      assertThat(st.allocatedBytesPerRecord()).isGreaterThanOrEqualTo(128 * 1024).isLessThan(1 << 20);
      assertThat(shadow.stats(7)).isEqualTo(new ShadowStats(7, 0, 0, 0, 0, 0, 0, 0));
    }
  }

  @Test
  void badArgumentsAreRejected() {
    assertThatThrownBy(() -> Shadow.start("x", r -> { }, 0)).hasMessageContaining("shadow capacity must be >= 1, was 0");
    assertThatThrownBy(() -> Shadow.start("x", null, 1)).hasMessageContaining("shadow processor is missing");
  }
}
