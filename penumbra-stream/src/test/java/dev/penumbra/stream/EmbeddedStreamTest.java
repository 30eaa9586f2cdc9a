package dev.penumbra.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EmbeddedStreamTest {

  /** Records each key's sequence numbers in processing order and checks that a key never runs twice at once. */
  static final class Recorder implements RecordProcessor {
    final Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> running = new ConcurrentHashMap<>();
    final AtomicReference<String> overlap = new AtomicReference<>();

    @Override
    public void process(StreamRecord r) {
      String k = r.partition() + "/" + r.key();
      AtomicInteger c = running.computeIfAbsent(k, x -> new AtomicInteger());
      if (c.incrementAndGet() > 1) {
        overlap.set(k);
      }
      int seq = Integer.parseInt(new String(r.value(), java.nio.charset.StandardCharsets.UTF_8));
      List<Integer> l = seen.computeIfAbsent(k, x -> java.util.Collections.synchronizedList(new ArrayList<>()));
      l.add(seq);
      if (seq % 7 == 0) {
        Thread.onSpinWait();
      }
      c.decrementAndGet();
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
  void randomScalingLosesNothingDuplicatesNothingAndKeepsKeyOrder(long seed) throws Exception {
    SplittableRandom random = new SplittableRandom(seed);
    Recorder rec = new Recorder();
    int partitions = 2;
    int keys = 40;
    int records = 6000;
    int[][] next = new int[partitions][keys];
    try (EmbeddedStream stream = EmbeddedStream.builder(partitions, rec).initialWorkers(1 + random.nextInt(3))
        .maxWorkers(8).queueCapacity(1 + random.nextInt(64)).build()) {
      Thread scaler = Thread.ofPlatform().start(() -> {
        SplittableRandom r = new SplittableRandom(seed * 31);
        try {
          for (int i = 0; i < 40; i++) {
            stream.scale(r.nextInt(partitions), 1 + r.nextInt(8));
            Thread.sleep(0, r.nextInt(500_000));
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      for (int i = 0; i < records; i++) {
        int p = random.nextInt(partitions);
        int k = random.nextInt(keys);
        stream.submit(new StreamRecord(p, "key" + k, Integer.toString(next[p][k]++).getBytes()));
      }
      scaler.join();
      assertThat(stream.awaitIdle(Duration.ofSeconds(20))).isTrue();
      long total = 0;
      for (int p = 0; p < partitions; p++) {
        PartitionStats st = stream.stats(p);
        assertThat(st.backlog()).isZero();
        assertThat(st.failed()).isZero();
        total += st.processed();
      }
      assertThat(total).isEqualTo(records);
    }
    assertThat(rec.overlap.get()).as("a key ran on two workers at once").isNull();
    for (int p = 0; p < partitions; p++) {
      for (int k = 0; k < keys; k++) {
        List<Integer> got = rec.seen.getOrDefault(p + "/key" + k, List.of());
        List<Integer> want = new ArrayList<>();
        for (int s = 0; s < next[p][k]; s++) {
          want.add(s);
        }
        assertThat(got).as("partition %d key %d: every record once, in order", p, k).isEqualTo(want);
      }
    }
  }

  @Test
  void scalingDownFinishesInFlightRecords() throws Exception {
    Recorder rec = new Recorder();
    try (EmbeddedStream stream = EmbeddedStream.builder(1, r -> {
      Thread.sleep(1);
      rec.process(r);
    }).initialWorkers(6).build()) {
      for (int i = 0; i < 300; i++) {
        stream.submit(new StreamRecord(0, "k" + (i % 30), Integer.toString(i / 30).getBytes()));
      }
      stream.scale(0, 1);
      assertThat(stream.workers(0)).isEqualTo(1);
      assertThat(stream.awaitIdle(Duration.ofSeconds(20))).isTrue();
      assertThat(stream.stats(0).processed()).isEqualTo(300);
      assertThat(stream.stats(0).scalings()).isEqualTo(1);
    }
    assertThat(rec.seen.values().stream().mapToInt(List::size).sum()).isEqualTo(300);
  }

  @Test
  void aFullQueueBlocksTheProducer() throws Exception {
    java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
    try (EmbeddedStream stream = EmbeddedStream.builder(1, r -> gate.await()).queueCapacity(4).build()) {
      Thread producer = Thread.ofPlatform().start(() -> {
        try {
          for (int i = 0; i < 20; i++) {
            stream.submit(new StreamRecord(0, "same", null));
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      producer.join(300);
      assertThat(producer.isAlive()).as("producer waits for room").isTrue();
      // 1 in flight and 4 queued
      assertThat(stream.stats(0).submitted()).isEqualTo(5);
      gate.countDown();
      producer.join(5000);
      assertThat(stream.awaitIdle(Duration.ofSeconds(5))).isTrue();
      assertThat(stream.stats(0).processed()).isEqualTo(20);
    }
  }

  @Test
  void badConfigurationAndUnknownPartitionAreRejected() throws Exception {
    try (EmbeddedStream stream = EmbeddedStream.builder(2, r -> { }).maxWorkers(4).build()) {
      assertThatThrownBy(() -> stream.submit(new StreamRecord(2, "k", null)))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown partition 2");
      assertThatThrownBy(() -> stream.scale(5, 1))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown partition 5");
      assertThatThrownBy(() -> stream.scale(0, 0))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("workers must be in 1..4, was 0");
      assertThat(stream.workers(0)).isEqualTo(1);
    }
    assertThatThrownBy(() -> new StreamRecord(-1, "k", null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("partition must be >= 0, was -1");
    assertThatThrownBy(() -> EmbeddedStream.builder(0, r -> { }).build())
        .hasMessageContaining("partitions must be >= 1, was 0");
    assertThatThrownBy(() -> EmbeddedStream.builder(1, r -> { }).queueCapacity(0).build())
        .hasMessageContaining("queueCapacity must be >= 1, was 0");
    assertThatThrownBy(() -> EmbeddedStream.builder(1, r -> { }).initialWorkers(9).maxWorkers(8).build())
        .hasMessageContaining("initialWorkers must be in 1..8, was 9");
  }
}
