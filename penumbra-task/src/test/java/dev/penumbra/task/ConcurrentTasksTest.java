package dev.penumbra.task;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.NodeView;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Real threads, the real sampler and warm-up thread, a ledger too small for every task at once. */
class ConcurrentTasksTest {

  @Test
  void ledgerInvariantsHoldUnderManyConcurrentTasksAndNothingLeaks() throws Exception {
    Ledger ledger = Ledger.inMemory(Clock.systemUTC());
    Resources capacity = Resources.of(24_000, 96L << 20);
    ledger.addNode("jvm", capacity);
    AtomicInteger violations = new AtomicInteger();
    ledger.subscribe(e -> {
      for (NodeView n : ledger.nodes()) {
        if (!n.used().fits(n.capacity())) {
          violations.incrementAndGet();
        }
      }
    });
    List<CompletableFuture<TaskResult>> results = new ArrayList<>();
    try (TaskExecutor ex = TaskExecutor.builder(ledger, "jvm")
        .interval(Duration.ofMillis(5))
        .horizon(Duration.ofMillis(30))
        .grace(Duration.ofMillis(40))
        .bucket(Duration.ofMillis(5))
        .blockSize(256 << 10)
        .fallback(Priority.BATCH, Fallback.DEGRADE)
        // Tasks hold memory while asking for more: a wait can deadlock, so it must end (and be counted).
        .queueTimeout(Duration.ofSeconds(2))
        .build()) {
      SplittableRandom rnd = new SplittableRandom(11);
      String[] types = {"ramp", "burst", "io"};
      Priority[] priorities = {Priority.CRITICAL, Priority.STANDARD, Priority.BATCH};
      AtomicInteger failingHook = new AtomicInteger();
      for (int i = 0; i < 150; i++) {
        int kind = rnd.nextInt(3);
        long mib = 1 + rnd.nextInt(6);
        TaskSpec spec = TaskSpec.of(types[kind], priorities[i % 3]);
        if (i % 10 == 0) {
          spec = spec.withPrefetch((id, p) -> {
            failingHook.incrementAndGet();
            throw new IllegalStateException("prefetch of " + id + " failed");
          });
        }
        boolean throwing = i % 25 == 7;
        results.add(ex.submit(spec, ctx -> {
          try (MemoryLease m = ctx.memory(mib << 20)) {
            Thread.sleep(5);
            if (kind == 1) {
              ctx.parallel(2, () -> Math.sqrt(mib));
            }
            try (MemoryLease more = ctx.memory(mib << 19)) {
              Thread.sleep(5);
            }
          }
          if (throwing) {
            throw new IllegalArgumentException("scripted failure");
          }
        }));
        if (i % 20 == 19) {
          Thread.sleep(10);
        }
      }
      CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      TaskStats s = ex.stats();
      assertThat(s.completed()).isEqualTo(150);
      assertThat(s.failed()).isEqualTo(results.stream().filter(f -> !f.join().succeeded()).count());
      assertThat(results.stream().map(CompletableFuture::join).filter(r -> !r.succeeded()))
          .allMatch(r -> r.failure() instanceof IllegalArgumentException || r.failure() instanceof ResourceUnavailableException);
      assertThat(s.hits() + s.misses()).isGreaterThanOrEqualTo(150);
      assertThat(s.ticks()).isGreaterThan(0);
    }
    assertThat(violations.get()).isZero();
    assertThat(ledger.snapshot().reservations()).isEmpty();
    assertThat(ledger.nodes().get(0).used()).isEqualTo(Resources.ZERO);
  }
}
