package dev.penumbra.shard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The shard engine as an instance of the core loop: grants, the learn step, the guard, lease renewal. */
class ShardLoopTest {

  private final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final Ledger ledger = Ledger.inMemory(clock);

  /** Reports every attempt when told to, as having used half a core: a backend that measures. */
  private static final class Measured implements Backend {
    final List<Runnable> pending = new ArrayList<>();

    @Override
    public String id() {
      return "m";
    }

    @Override
    public Resources capacity() {
      return Resources.of(64_000, 64L << 30);
    }

    @Override
    public void submit(Attempt a, Consumer<AttemptResult> done) {
      pending.add(() -> done.accept(AttemptResult.success(a.id(), "m", a.shard().keys(), Resources.cpu(500),
          Duration.ofSeconds(2))));
    }

    @Override
    public void cancel(String attemptId) {}

    @Override
    public boolean alive() {
      return true;
    }

    @Override
    public Map<Priority, Double> utilization() {
      Map<Priority, Double> m = new EnumMap<>(Priority.class);
      for (Priority p : Priority.values()) {
        m.put(p, 0.0);
      }
      return m;
    }

    void finishAll() {
      List<Runnable> now = new ArrayList<>(pending);
      pending.clear();
      now.forEach(Runnable::run);
    }
  }

  private static ShardRequest request(String id) {
    return new ShardRequest(id, "t", Priority.STANDARD, List.of(Unit.of("u", "f", KeyRange.of(0, 800))));
  }

  @Test
  void attemptsAreGrantsCompletedWithTheirMeasuredUseAndTheModelLearnsFromThem() throws Exception {
    Measured backend = new Measured();
    try (ShardHistory history = ShardHistory.inMemory(1.0);
        ShardEngine engine = ShardEngine.builder(ledger, history).clock(clock).backend(backend)
            .lease(Duration.ofMinutes(10)).minTimeout(Duration.ofHours(2)).build()) {
      var first = engine.submit(request("one"), ShardPolicy.KEY_RANGE, 8);
      assertThat(engine.status("one").orElseThrow()).allSatisfy(s -> {
        assertThat(s.state()).isEqualTo("running");
        assertThat(s.reserved()).isEqualTo(Resources.of(1000, 64L << 20));
      });
      // Running past several leases: the loop's adjuster renews them, nothing expires under a running shard.
      for (int i = 0; i < 6; i++) {
        clock.advance(Duration.ofMinutes(4));
        engine.tick();
      }
      ledger.expireDue();
      assertThat(ledger.snapshot().reservations()).filteredOn(Reservation::isLive).hasSize(8);
      backend.finishAll();
      assertThat(first).isCompleted();
      assertThat(engine.loopStats().completed()).isEqualTo(8);
      assertThat(engine.loopStats().live()).isZero();
      assertThat(engine.loopStats().used().cpuMilliSeconds()).isPositive();
      assertThat(engine.loopStats().guard().scored()).isPositive();
      // Learned through the loop: the next request's shards are predicted at the half core they used.
      engine.submit(request("two"), ShardPolicy.KEY_RANGE, 8);
      assertThat(engine.status("two").orElseThrow()).allSatisfy(s -> assertThat(s.demand().cpuMillis()).isEqualTo(500));
      backend.finishAll();
      assertThat(ledger.snapshot().reservations()).noneMatch(Reservation::isLive);
    }
  }
}
