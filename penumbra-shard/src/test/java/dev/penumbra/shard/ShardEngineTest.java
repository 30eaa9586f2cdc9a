package dev.penumbra.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ShardEngineTest {

  private final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final Ledger ledger = Ledger.inMemory(clock);
  private final List<String> events = Collections.synchronizedList(new ArrayList<>());
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private final List<InProcessBackend> backends = new ArrayList<>();
  private ShardHistory history;
  private ShardEngine engine;
  /** Shard ids whose first attempt throws. */
  private final List<String> failFirst = Collections.synchronizedList(new ArrayList<>());
  /** Shard ids whose first attempt spins (ignoring interrupts) until released. */
  private final List<String> hangFirst = Collections.synchronizedList(new ArrayList<>());
  private final AtomicBoolean releaseHung = new AtomicBoolean();

  private Object work(Shard s) {
    int n = calls.computeIfAbsent(s.id(), k -> new AtomicInteger()).incrementAndGet();
    events.add("start " + s.id());
    if (n == 1 && failFirst.contains(s.id())) {
      throw new IllegalStateException("injected failure of " + s.id());
    }
    if (n == 1 && hangFirst.contains(s.id())) {
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!releaseHung.get() && System.nanoTime() < until) {
        Thread.onSpinWait();
      }
    }
    long sum = 0;
    for (long k = s.subset().range().from(); k < s.subset().range().to(); k++) {
      if (s.subset().contains(k)) {
        sum += k;
      }
    }
    events.add("end " + s.id());
    return sum;
  }

  @BeforeEach
  void setUp() throws Exception {
    history = ShardHistory.inMemory(1.0);
    ShardEngine.Builder b = ShardEngine.builder(ledger, history).clock(clock)
        .timeoutFactor(2).minTimeout(Duration.ofSeconds(5)).backoff(Duration.ofMillis(100)).maxAttempts(3);
    for (String id : List.of("a", "b")) {
      InProcessBackend be = InProcessBackend.of(id, Resources.of(4000, 1L << 30), 2, this::work);
      backends.add(be);
      b.backend(be);
    }
    engine = b.build();
  }

  @AfterEach
  void tearDown() {
    releaseHung.set(true);
    engine.close();
    backends.forEach(InProcessBackend::close);
    history.close();
  }

  private static ShardRequest request(String id, long keys) {
    return new ShardRequest(id, "sum", Priority.STANDARD, List.of(Unit.of("u", "sum", KeyRange.of(0, keys))));
  }

  private RequestResult finish(CompletableFuture<RequestResult> f) {
    // Ticks the sweeper with the manual clock until the request ends.
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(5)).until(() -> {
      clock.advance(Duration.ofMillis(50));
      engine.tick();
      return f.isDone();
    });
    return f.join();
  }

  private void assertAllReleased() {
    assertThat(ledger.snapshot().reservations()).noneMatch(Reservation::isLive);
  }

  private static long total(RequestResult r) {
    return r.shards().stream().mapToLong(s -> (Long) s.value()).sum();
  }

  @Test
  void runsEveryShardOnceOnItsReservationAndReleasesAll() {
    RequestResult r = finish(engine.submit(request("r1", 1000), ShardPolicy.KEY_RANGE, 8));
    assertThat(r.shards()).hasSize(8);
    assertThat(total(r)).isEqualTo(999L * 1000 / 2);
    assertThat(r.shards()).allSatisfy(s -> assertThat(s.reserved().cpuMillis()).isPositive());
    EngineStats st = engine.stats();
    assertThat(st.accepted()).isEqualTo(8);
    assertThat(st.duplicates()).isZero();
    assertThat(st.attempts()).isEqualTo(8);
    assertAllReleased();
    engine.flush();
    assertThat(history.size()).isEqualTo(8);
  }

  @Test
  void respectsTheDagOrder() {
    ShardRequest req = new ShardRequest("dag", "sum", Priority.BATCH, List.of(
        Unit.of("scan", "sum", KeyRange.of(0, 100)),
        Unit.of("join", "sum", KeyRange.of(0, 50)).after("scan"),
        Unit.of("agg", "sum", KeyRange.of(0, 10)).after("join")));
    finish(engine.submit(req, ShardPolicy.HASH, 3));
    List<String> ev = List.copyOf(events);
    int lastScanEnd = -1;
    int firstJoinStart = Integer.MAX_VALUE;
    int lastJoinEnd = -1;
    int firstAggStart = Integer.MAX_VALUE;
    for (int i = 0; i < ev.size(); i++) {
      String e = ev.get(i);
      if (e.startsWith("end dag/scan")) {
        lastScanEnd = i;
      } else if (e.startsWith("start dag/join")) {
        firstJoinStart = Math.min(firstJoinStart, i);
      } else if (e.startsWith("end dag/join")) {
        lastJoinEnd = i;
      } else if (e.startsWith("start dag/agg")) {
        firstAggStart = Math.min(firstAggStart, i);
      }
    }
    assertThat(lastScanEnd).isLessThan(firstJoinStart);
    assertThat(lastJoinEnd).isLessThan(firstAggStart);
    assertAllReleased();
  }

  @Test
  void retriesAFailedShardAfterABackoffAndCountsItOnce() {
    failFirst.add("f/u/2");
    failFirst.add("f/u/5");
    RequestResult r = finish(engine.submit(request("f", 600), ShardPolicy.KEY_RANGE, 6));
    assertThat(total(r)).isEqualTo(599L * 600 / 2);
    EngineStats st = engine.stats();
    assertThat(st.failures()).isEqualTo(2);
    assertThat(st.retries()).isEqualTo(2);
    assertThat(st.accepted()).isEqualTo(6);
    assertThat(r.shards().stream().filter(s -> s.attempts() == 2).count()).isEqualTo(2);
    assertAllReleased();
  }

  @Test
  void aHungShardTimesOutIsRetriedAndItsLateResultIsDropped() {
    hangFirst.add("h/u/1");
    CompletableFuture<RequestResult> f = engine.submit(request("h", 400), ShardPolicy.KEY_RANGE, 4);
    RequestResult r = finish(f);
    assertThat(total(r)).isEqualTo(399L * 400 / 2);
    assertThat(engine.stats().timeouts()).isEqualTo(1);
    assertThat(r.shards().get(1).attempts()).isEqualTo(2);
    releaseHung.set(true);
    await().atMost(Duration.ofSeconds(10)).until(() -> engine.stats().duplicates() == 1);
    assertThat(engine.stats().accepted()).isEqualTo(4);
    assertAllReleased();
  }

  @Test
  void aKilledBackendsShardsAreReclaimedAndRerunElsewhere() {
    hangFirst.add("k/u/0");
    hangFirst.add("k/u/1");
    hangFirst.add("k/u/2");
    hangFirst.add("k/u/3");
    CompletableFuture<RequestResult> f = engine.submit(request("k", 400), ShardPolicy.KEY_RANGE, 4);
    await().atMost(Duration.ofSeconds(10)).until(() -> engine.running() == 4);
    InProcessBackend victim = backends.get(0);
    victim.kill();
    engine.tick();
    assertThat(ledger.snapshot().reservationsOn(victim.id())).noneMatch(Reservation::isLive);
    releaseHung.set(true);
    RequestResult r = finish(f);
    assertThat(total(r)).isEqualTo(399L * 400 / 2);
    assertThat(engine.stats().lost()).isPositive();
    assertThat(r.shards()).allSatisfy(s -> assertThat(s.backend()).isEqualTo("b"));
    assertThat(engine.stats().duplicates()).isZero();
    assertAllReleased();
  }

  @Test
  void aShardOutOfAttemptsFailsTheRequestAndReleasesEverything() {
    ShardEngine strict = ShardEngine.builder(ledger, history).clock(clock).maxAttempts(1)
        .backend(InProcessBackend.of("c", Resources.of(1000, 1L << 30), 1, s -> {
          throw new IllegalStateException("always");
        })).build();
    try {
      CompletableFuture<RequestResult> f = strict.submit(request("x", 10), ShardPolicy.KEY_RANGE, 2);
      await().atMost(Duration.ofSeconds(10)).until(f::isDone);
      assertThatThrownBy(f::join).hasCauseInstanceOf(ShardFailedException.class).hasMessageContaining("always");
      assertAllReleased();
    } finally {
      strict.close();
    }
  }

  @Test
  void predictedPolicyCutsByHistoryAndBadInputReservesNothing() {
    // 10 ms per key in history: a 1000-key unit lasts ~10 s and is cut into 1 s shards, at most 6.
    List<ShardProfile> ps = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      ps.add(new ShardProfile("old" + i, "sum", "sum", 1000, 1000, 100, Resources.cpu(900), 1000));
    }
    history.record(ps);
    RequestResult r = finish(engine.submit(request("p", 1000), ShardPolicy.PREDICTED, 6));
    assertThat(r.shards()).hasSize(6);
    assertThat(r.shards().get(0).predictedP50Millis()).isCloseTo(1670, org.assertj.core.data.Offset.offset(1.0));
    long before = ledger.snapshot().reservations().size();
    assertThatThrownBy(() -> engine.submit(request("z", 1000), ShardPolicy.KEY_RANGE, 0))
        .hasMessageContaining("shards must be >= 1, was 0");
    assertThatThrownBy(() -> engine.submit(request("z", 5), ShardPolicy.HASH, 9))
        .hasMessageContaining("shards 9 exceed its 5 keys");
    assertThatThrownBy(() -> engine.submit(request("z", 5), null, 1)).hasMessageContaining("policy is missing");
    assertThat(ledger.snapshot().reservations()).hasSize((int) before);
    assertThat(engine.active()).isZero();
  }
}
