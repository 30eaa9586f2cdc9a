package dev.penumbra.eval.shard;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.query.tpch.TpchDatabase;
import dev.penumbra.shard.InProcessBackend;
import dev.penumbra.shard.KeyRange;
import dev.penumbra.shard.RequestResult;
import dev.penumbra.shard.ShardEngine;
import dev.penumbra.shard.ShardHistory;
import dev.penumbra.shard.ShardPolicy;
import dev.penumbra.shard.ShardReport;
import dev.penumbra.shard.ShardRequest;
import dev.penumbra.shard.SqlShardFunction;
import dev.penumbra.shard.Unit;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Analytic SQL over TPC-H cut into shards by order key (ranges and hash buckets) on DuckDB backends, partial
 * results merged and compared with the unsharded query's answer; once more with a backend killed while it runs a
 * shard (the sweeper reruns it elsewhere).
 */
public final class TpchShardCheck {

  /** A pricing summary (TPC-H Q1's aggregates as mergeable sums and counts) over the shard's order keys. */
  public static final String QUERY = "SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty,"
      + " sum(l_extendedprice) AS sum_base_price, sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,"
      + " sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge, count(*) AS count_order"
      + " FROM lineitem WHERE {keys} GROUP BY l_returnflag, l_linestatus";

  /** One run's outcome. */
  public record Outcome(String run, int shards, boolean identical, int groups, long retries, long lost) {}

  private TpchShardCheck() {}

  /** Generates (or reuses) TPC-H at {@code scale} in {@code dir} and runs the check. */
  public static List<Outcome> run(Path dir, double scale, long seed) throws Exception {
    TpchDatabase db = TpchDatabase.duckdb(dir.resolve("tpch-" + scale + "-" + seed + ".duckdb"), scale, seed);
    long maxKey;
    try (Connection c = db.connect(true); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT max(l_orderkey) FROM lineitem")) {
      rs.next();
      maxKey = rs.getLong(1);
    }
    List<Outcome> out = new ArrayList<>();
    out.add(once(db.file().toString(), maxKey, ShardPolicy.KEY_RANGE, false));
    out.add(once(db.file().toString(), maxKey, ShardPolicy.HASH, false));
    out.add(once(db.file().toString(), maxKey, ShardPolicy.PREDICTED, false));
    out.add(once(db.file().toString(), maxKey, ShardPolicy.KEY_RANGE, true));
    return out;
  }

  private static Outcome once(String file, long maxKey, ShardPolicy policy, boolean kill) throws Exception {
    Ledger ledger = Ledger.inMemory(Clock.systemUTC());
    List<SqlShardFunction> functions = new ArrayList<>();
    List<InProcessBackend> backends = new ArrayList<>();
    CountDownLatch firstStarted = new CountDownLatch(1);
    CountDownLatch killed = new CountDownLatch(1);
    try (ShardHistory history = ShardHistory.inMemory(0.01)) {
      ShardEngine.Builder b = ShardEngine.builder(ledger, history).targetShard(Duration.ofMillis(20))
          .minTimeout(Duration.ofSeconds(30)).backoff(Duration.ofMillis(10));
      for (int i = 0; i < 3; i++) {
        SqlShardFunction f = new SqlShardFunction(file, QUERY, "l_orderkey", 1);
        functions.add(f);
        boolean victim = kill && i == 0;
        InProcessBackend be = InProcessBackend.of("duckdb-" + i, Resources.of(2000, 1L << 30), 2, shard -> {
          if (victim) {
            // Hold the shard until the backend is killed under it.
            firstStarted.countDown();
            killed.await(30, TimeUnit.SECONDS);
          }
          return f.apply(shard);
        });
        backends.add(be);
        b.backend(be);
      }
      ShardEngine engine = b.build();
      try {
        ShardRequest req = new ShardRequest("tpch-" + policy.label() + (kill ? "-kill" : ""), "tpch-q1-sums",
            Priority.STANDARD, List.of(Unit.of("lineitem", "q1-sums", KeyRange.of(0, maxKey + 1))));
        CompletableFuture<RequestResult> f = engine.submit(req, policy, 12);
        if (kill) {
          if (firstStarted.await(30, TimeUnit.SECONDS)) {
            backends.get(0).kill();
            killed.countDown();
          }
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!f.isDone() && System.nanoTime() < until) {
          engine.tick();
          // The engine is time-driven (deadlines, retries): this loop is its clock, ticking every 5 ms.
          Thread.sleep(5);
        }
        RequestResult r = f.get(1, TimeUnit.SECONDS);
        List<List<List<Object>>> parts = new ArrayList<>();
        for (ShardReport s : r.shards()) {
          @SuppressWarnings("unchecked")
          List<List<Object>> rows = (List<List<Object>>) s.value();
          parts.add(rows);
        }
        List<List<Object>> merged = SqlShardFunction.merge(parts, 2);
        List<List<Object>> whole = SqlShardFunction.sorted(functions.get(1).unsharded(), 2);
        boolean released = ledger.snapshot().reservations().stream().noneMatch(Reservation::isLive);
        return new Outcome(policy.label() + (kill ? " + backend killed" : ""), r.shards().size(),
            released && merged.equals(whole), whole.size(), engine.stats().retries(), engine.stats().lost());
      } finally {
        killed.countDown();
        engine.close();
      }
    } finally {
      backends.forEach(InProcessBackend::close);
      for (SqlShardFunction f : functions) {
        f.close();
      }
    }
  }
}
