package dev.penumbra.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every shard transport must do, run against each: the in-process backends and Kafka with worker processes.
 * Backends run {@link ShardFunctions#keySum} at {@link #PER_KEY} per key, so a request's answer checks its cover.
 */
abstract class ShardTransportContract {

  static final Duration PER_KEY = Duration.ofMillis(4);
  static final Resources CAPACITY = Resources.of(4000, 1L << 30);

  /** Starts {@code n} backends named {@code ids} running key-sum, and waits until they are alive. */
  protected abstract List<Backend> start(List<String> ids) throws Exception;

  /** Crashes a backend mid-flight (in-process: its threads stop; Kafka: its worker process gets kill -9). */
  protected abstract void crash(String id) throws Exception;

  /** Restarts a crashed backend if the transport can (Kafka: a new worker process on the same pool). */
  protected boolean restart(String id) throws Exception {
    return false;
  }

  /**
   * Starts one backend running {@link #SLOW_SQL} on a DuckDB file made by {@link #slowSqlDatabase} (in-process: a
   * {@link SqlShardFunction}; Kafka: a worker process with {@code --function sql}), and waits until it is alive.
   */
  protected abstract Backend startSql() throws Exception;

  /** True while backend {@code id} runs a shard. */
  protected abstract boolean busy(String id);

  /** Attempts the backends confirmed stopped (or skipped before they started) on a cancel. */
  protected abstract long cancelledOnBackends();

  /**
   * Starts one pool served by two workers (in-process: two threads of one backend; Kafka: two worker processes in
   * one consumer group), and waits until every worker is ready.
   */
  protected abstract Backend startPairPool() throws Exception;

  /**
   * Crashes one worker of a pool while it runs a shard, leaving the others (Kafka: kill -9 of a busy worker
   * process); false when the transport has no workers of its own to crash (in-process).
   */
  protected boolean crashBusyWorker(String pool) throws Exception {
    return false;
  }

  /** Results with no one waiting for them, seen by the transport (Kafka's redeliveries); -1 when not counted. */
  protected long staleResults() {
    return -1;
  }

  /**
   * Per key of table {@code t}, {@code w} rows of a generated range: keys below 1,000 weigh 3 rows, the others
   * 10^12, so a shard holding one of those runs for hours unless the engine's interrupt stops it.
   */
  static final String SLOW_SQL = "SELECT count(*) AS n, sum(k) AS s FROM t, range(t.w) r WHERE {keys}";

  /** A DuckDB file with the table {@link #SLOW_SQL} reads, keys 0..1,999. */
  static Path slowSqlDatabase(Path dir) throws Exception {
    Path file = dir.resolve("slow.duckdb");
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + file); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t AS SELECT range AS k, CASE WHEN range >= 1000 THEN 1000000000000 ELSE 3 END AS w"
          + " FROM range(0, 2000)");
    }
    return file;
  }

  private final Ledger ledger = Ledger.inMemory(Clock.systemUTC());
  private final List<String> events = Collections.synchronizedList(new ArrayList<>());
  private ShardHistory history;
  private ShardEngine engine;
  private static int serial;

  /**
   * The ids of the {@code n} backends {@link #start} starts: unique per test by default; a transport whose
   * backends outlive a test (Kafka's worker processes, started once per class) names the same ones every time.
   */
  protected List<String> backendIds(int n) {
    return ids(n);
  }

  /** Unique pool ids per test (Kafka topics outlive a test). */
  protected static synchronized List<String> ids(int n) {
    serial++;
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add("t" + serial + "-b" + i);
    }
    return ids;
  }

  private ShardEngine engine(List<Backend> backends) throws Exception {
    history = ShardHistory.inMemory(1.0);
    // Timeouts far above any shard here: only a lost backend makes a retry.
    return engine(backends, ShardEngine.builder(ledger, history).minTimeout(Duration.ofMinutes(2))
        .backoff(Duration.ofMillis(50)).maxAttempts(4).cooldown(Duration.ofMinutes(1)));
  }

  private ShardEngine engine(List<Backend> backends, ShardEngine.Builder b) {
    for (Backend be : backends) {
      b.backend(new Recording(be));
    }
    engine = b.build();
    return engine;
  }

  @AfterEach
  void closeEngine() {
    if (engine != null) {
      engine.close();
    }
    if (history != null) {
      history.close();
    }
  }

  private RequestResult finish(CompletableFuture<RequestResult> f) {
    await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(20)).until(() -> {
      engine.tick();
      return f.isDone();
    });
    return f.join();
  }

  private void assertAllReleased() {
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThat(ledger.snapshot().reservations()).noneMatch(Reservation::isLive));
    assertThat(engine.loopStats().live()).isZero();
  }

  private static long total(RequestResult r) {
    return r.shards().stream().mapToLong(s -> ((Number) s.value()).longValue()).sum();
  }

  private static ShardRequest request(String id, List<Unit> units) {
    return new ShardRequest(id, "sum", Priority.STANDARD, units);
  }

  @Test
  void everyPolicyCoversEveryKeyOnceAndReleasesAll() throws Exception {
    engine(start(backendIds(2)));
    for (ShardPolicy p : List.of(ShardPolicy.KEY_RANGE, ShardPolicy.HASH, ShardPolicy.PREDICTED)) {
      RequestResult r = finish(engine.submit(request("cover-" + p.label(),
          List.of(Unit.of("u", ShardFunctions.KEY_SUM, KeyRange.of(10, 130)))), p, 4));
      assertThat(total(r)).as(p.label()).isEqualTo(ShardFunctions.expectedSum(KeyRange.of(10, 130)));
      assertThat(r.shards()).extracting(s -> s.shard().id()).doesNotHaveDuplicates();
      assertThat(r.shards().stream().mapToLong(s -> s.shard().keys()).sum()).isEqualTo(120);
    }
    // One result accepted per shard (a pool whose heartbeats lag on a loaded machine is taken for dead and its shard
    // run again elsewhere: the later result is then dropped as a duplicate, never counted).
    assertThat(engine.stats().accepted()).isEqualTo(engine.stats().shards());
    assertAllReleased();
    // Every attempt was a grant of the shard loop, and every grant ended (completed with a measured use, else
    // released); the loop carries uniform static sizing as its baseline.
    assertThat(engine.loopStats().placed()).isGreaterThanOrEqualTo(engine.stats().attempts());
    assertThat(engine.loopStats().completed() + engine.loopStats().ended()).isEqualTo(engine.loopStats().placed());
    assertThat(engine.loopStats().guard().baseline()).isEqualTo("uniform-static");
  }

  @Test
  void dependentShardsStartOnlyAfterEveryShardTheyDependOn() throws Exception {
    engine(start(backendIds(2)));
    Unit extract = Unit.of("extract", ShardFunctions.KEY_SUM, KeyRange.of(0, 60));
    Unit load = Unit.of("load", ShardFunctions.KEY_SUM, KeyRange.of(60, 100)).after("extract");
    RequestResult r = finish(engine.submit(request("dag", List.of(extract, load)), ShardPolicy.KEY_RANGE, 3));
    assertThat(total(r)).isEqualTo(ShardFunctions.expectedSum(KeyRange.of(0, 100)));
    List<String> log = List.copyOf(events);
    int lastExtractResult = -1;
    int firstLoadSubmit = Integer.MAX_VALUE;
    for (int i = 0; i < log.size(); i++) {
      if (log.get(i).startsWith("result dag/extract/")) {
        lastExtractResult = i;
      }
      if (log.get(i).startsWith("submit dag/load/")) {
        firstLoadSubmit = Math.min(firstLoadSubmit, i);
      }
    }
    assertThat(lastExtractResult).isNotNegative();
    assertThat(firstLoadSubmit).isGreaterThan(lastExtractResult).isLessThan(Integer.MAX_VALUE);
    assertAllReleased();
  }

  @Test
  void aShardOnACrashedBackendIsRetriedOnAnotherAndCountedOnce() throws Exception {
    List<String> ids = backendIds(2);
    engine(start(ids));
    CompletableFuture<RequestResult> f = engine.submit(request("crash",
        List.of(Unit.of("u", ShardFunctions.KEY_SUM, KeyRange.of(0, 400)))), ShardPolicy.KEY_RANGE, 4);
    // Crash the first backend as soon as it holds a shard (each lasts about 100 keys x 4 ms).
    String victim = ids.get(0);
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      engine.tick();
      return events.stream().anyMatch(e -> e.startsWith("submit ") && e.endsWith("@" + victim));
    });
    crash(victim);
    RequestResult r = finish(f);
    assertThat(total(r)).isEqualTo(ShardFunctions.expectedSum(KeyRange.of(0, 400)));
    assertThat(r.shards()).extracting(s -> s.shard().id()).doesNotHaveDuplicates();
    assertThat(r.shards()).allSatisfy(s -> assertThat(s.backend()).isNotEqualTo(victim));
    assertThat(engine.stats().lost()).isPositive();
    assertThat(engine.stats().retries()).isPositive();
    assertAllReleased();

    // A transport that redelivers (a restarted worker runs its unfinished shard again): the repeat is dropped.
    if (!restart(victim)) {
      return;
    }
    long before = engine.stats().duplicates();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
      engine.tick();
      return engine.stats().duplicates() > before;
    });
    assertThat(engine.stats().accepted()).isEqualTo(4);
    assertThat(engine.stats().completed()).isEqualTo(1);
    assertAllReleased();
  }

  @Test
  void aCancelledRequestStopsItsAttemptOnTheBackendAndReleasesAll() throws Exception {
    engine(start(backendIds(1)));
    long cancelledBefore = cancelledOnBackends();
    // One shard of 2,000 keys x 4 ms: 8 s if nothing stops it.
    CompletableFuture<RequestResult> f = engine.submit(request("cancel",
        List.of(Unit.of("u", ShardFunctions.KEY_SUM, KeyRange.of(0, 2000)))), ShardPolicy.KEY_RANGE, 1);
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      engine.tick();
      return events.stream().anyMatch(e -> e.startsWith("submit cancel/"));
    });
    assertThat(engine.cancel("cancel")).isTrue();
    assertThat(engine.cancel("cancel")).as("a request that ended is not cancelled twice").isFalse();
    assertThat(f).isCompletedExceptionally();
    assertThatThrownBy(f::join).hasCauseInstanceOf(ShardFailedException.class).hasMessageContaining("cancelled");
    assertAllReleased();
    // The backend stopped it and answered nothing for it.
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
        .until(() -> cancelledOnBackends() > cancelledBefore);
    assertThat(events).noneMatch(e -> e.startsWith("result cancel/"));
    // And it is free again: the next request runs on it.
    RequestResult next = finish(engine.submit(request("after-cancel",
        List.of(Unit.of("u", ShardFunctions.KEY_SUM, KeyRange.of(0, 50)))), ShardPolicy.KEY_RANGE, 1));
    assertThat(total(next)).isEqualTo(ShardFunctions.expectedSum(KeyRange.of(0, 50)));
    assertAllReleased();
  }

  @Test
  void aCancelledSqlShardStopsMidQueryAndItsConnectionRunsTheNextShard() throws Exception {
    long cancelledBefore = cancelledOnBackends();
    Backend sql = startSql();
    String id = sql.id();
    engine(List.of(sql));
    CompletableFuture<RequestResult> f = engine.submit(new ShardRequest("sql-cancel", "sql", Priority.STANDARD,
        List.of(Unit.of("t", "sql", KeyRange.of(990, 1010)))), ShardPolicy.KEY_RANGE, 1);
    // Cancelled once its query runs on the backend.
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> {
      engine.tick();
      return busy(id);
    });
    assertThat(engine.cancel("sql-cancel")).isTrue();
    assertThat(f).isCompletedExceptionally();
    assertAllReleased();
    assertThat(engine.stats().cancelled()).isEqualTo(1);
    // The backend stopped the query (its answer to the cancel comes once the query ended) and answered no result.
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
        .until(() -> cancelledOnBackends() > cancelledBefore);
    assertThat(events).noneMatch(e -> e.startsWith("result sql-cancel/"));
    // The same connection runs the next shards at once (it would still be busy for hours had the query gone on).
    RequestResult next = finish(engine.submit(new ShardRequest("sql-after", "sql", Priority.STANDARD,
        List.of(Unit.of("t", "sql", KeyRange.of(0, 1000)))), ShardPolicy.KEY_RANGE, 2));
    long rows = 0;
    long sum = 0;
    for (ShardReport s : next.shards()) {
      @SuppressWarnings("unchecked")
      List<List<Object>> part = (List<List<Object>>) s.value();
      rows += ((Number) part.get(0).get(0)).longValue();
      sum += ((Number) part.get(0).get(1)).longValue();
    }
    assertThat(rows).isEqualTo(3 * 1000);
    assertThat(sum).isEqualTo(3 * ShardFunctions.expectedSum(KeyRange.of(0, 1000)));
    assertAllReleased();
  }

  @Test
  void aHedgedAttemptThatLostIsCancelledOnItsBackend() throws Exception {
    // A shard of 875 keys runs 3.5 s and times out after 3 s (the prior's p99 is 1 ms per key, below that floor). Its
    // backup starts on the other backend then and would end at 6.5 s; its own timeout is at 6 s, the original's last
    // deadline at 12 s (slack for a slow transport on a loaded machine). The original wins at 3.5 s and the backup,
    // still running, is cancelled.
    long cancelledBefore = cancelledOnBackends();
    history = ShardHistory.inMemory(0.1);
    engine(start(backendIds(2)), ShardEngine.builder(ledger, history).timeoutFactor(1.0)
        .minTimeout(Duration.ofSeconds(3)).backoff(Duration.ofMillis(50)).maxAttempts(2)
        .cooldown(Duration.ofMinutes(1)));
    RequestResult r = finish(engine.submit(request("hedge",
        List.of(Unit.of("u", ShardFunctions.KEY_SUM, KeyRange.of(0, 875)))), ShardPolicy.KEY_RANGE, 1));
    assertThat(total(r)).isEqualTo(ShardFunctions.expectedSum(KeyRange.of(0, 875)));
    // One timeout (the original's); two on a machine so loaded that the original ran past the backup's timeout too,
    // which gives the backup up: either way the attempt that lost is cancelled on its backend.
    assertThat(engine.stats().timeouts()).isBetween(1L, 2L);
    assertThat(engine.stats().attempts()).isEqualTo(2);
    assertThat(r.shards().get(0).attempts()).isEqualTo(2);
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
        .until(() -> cancelledOnBackends() > cancelledBefore);
    assertThat(engine.stats().accepted()).isEqualTo(1);
    assertThat(engine.stats().duplicates()).isZero();
    assertAllReleased();
  }

  @Test
  void aPoolWithTwoWorkersLosesNoResultWhenOneCrashesMidShard() throws Exception {
    Backend pair = startPairPool();
    String pool = pair.id();
    engine(List.of(pair));
    CompletableFuture<RequestResult> f = engine.submit(request("workers",
        List.of(Unit.of("u", ShardFunctions.KEY_SUM, KeyRange.of(0, 800)))), ShardPolicy.KEY_RANGE, 8);
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      engine.tick();
      return events.stream().anyMatch(e -> e.startsWith("submit workers/"));
    });
    boolean crashed = crashBusyWorker(pool);
    RequestResult r = finish(f);
    assertThat(total(r)).isEqualTo(ShardFunctions.expectedSum(KeyRange.of(0, 800)));
    assertThat(r.shards()).hasSize(8).extracting(s -> s.shard().id()).doesNotHaveDuplicates();
    assertThat(r.shards().stream().mapToLong(s -> s.shard().keys()).sum()).isEqualTo(800);
    if (crashed) {
      // The pool lived on (its other worker took the dead one's partition): nothing was lost at the engine's level.
      assertThat(engine.stats().lost()).isZero();
    }
    assertThat(engine.stats().accepted()).isEqualTo(8);
    assertAllReleased();
  }

  /** Records dispatches and results in order, with the backend: the DAG and the crash tests read it. */
  private final class Recording implements Backend {
    private final Backend inner;

    Recording(Backend inner) {
      this.inner = inner;
    }

    @Override
    public String id() {
      return inner.id();
    }

    @Override
    public Resources capacity() {
      return inner.capacity();
    }

    @Override
    public void submit(Attempt attempt, Consumer<AttemptResult> done) {
      events.add("submit " + attempt.shard().id() + "@" + inner.id());
      inner.submit(attempt, r -> {
        events.add("result " + attempt.shard().id() + "@" + inner.id());
        done.accept(r);
      });
    }

    @Override
    public void cancel(String attemptId) {
      inner.cancel(attemptId);
    }

    @Override
    public boolean alive() {
      return inner.alive();
    }

    @Override
    public Map<Priority, Double> utilization() {
      return inner.utilization();
    }

    @Override
    public Optional<Resources> usage(String attemptId) {
      return inner.usage(attemptId);
    }
  }
}
