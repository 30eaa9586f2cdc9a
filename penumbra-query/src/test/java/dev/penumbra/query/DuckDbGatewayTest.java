package dev.penumbra.query;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.query.QueryReport.Adjustment;
import dev.penumbra.query.engine.Outcome;
import dev.penumbra.query.workload.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DuckDbGatewayTest extends GatewayContract {
  @TempDir static Path cache;
  static QueryGateway gateway;
  static final List<String> progress = new ArrayList<>();

  @BeforeAll
  static void open() throws Exception {
    // The contract runs many new shapes of a few ms each: a generous cold-start credit keeps their first runs
    // sampled whatever ran before them (the budget itself is tested in ShadowGateTest).
    gateway = QueryGateway.builder().scale(SCALE).cacheDir(cache).node("n1", NODE)
        .shadowCredit(java.time.Duration.ofMinutes(1)).progress(progress::add).build();
  }

  @AfterAll
  static void close() {
    gateway.close();
  }

  @Override
  QueryGateway gateway() {
    return gateway;
  }

  @Test
  void theDatabaseIsGeneratedOnFirstUseUnderTheCacheDirAndReused() throws Exception {
    Path file = QueryGateway.databaseFile(cache, SCALE, 42);
    assertThat(file.getFileName().toString()).isEqualTo("tpch-sf0.01-seed42.duckdb");
    assertThat(Files.isRegularFile(file)).isTrue();
    assertThat(progress).first().asString().startsWith("generating TPC-H SF 0.01");
    List<String> again = new ArrayList<>();
    try (QueryGateway second = QueryGateway.builder().scale(SCALE).cacheDir(cache).progress(again::add).build()) {
      assertThat(second.database().file()).isEqualTo(file);
    }
    assertThat(again).as("reused, not generated").isEmpty();
  }

  @Test
  @org.junit.jupiter.api.Timeout(120) // before the fix it waited for ever: fail instead of hanging the build
  void onALedgerSharedWithOtherWorkAQueryNeverAsksForTheCoresThatWorkHolds() throws Exception {
    dev.penumbra.core.ledger.Ledger shared = dev.penumbra.core.ledger.Ledger.inMemory(java.time.Clock.systemUTC());
    shared.addNode("n1", Resources.parse("cpu=2 cores, memory=1GiB"));
    // A stream's worker holds a sliver of one core for as long as it runs: a two-core query could never place.
    shared.reserve("stream/p0", "n1", Resources.cpu(116), Priority.STANDARD, java.time.Duration.ofHours(1),
        dev.penumbra.core.ledger.Reservation.State.ACTIVE);
    try (QueryGateway gw = QueryGateway.builder().scale(SCALE).cacheDir(cache).ledger(shared).build()) {
      for (String sql : List.of("SELECT count(*) FROM lineitem", "SELECT l_returnflag, sum(l_quantity) FROM "
          + "lineitem GROUP BY l_returnflag ORDER BY 1")) {
        QueryReport r = gw.submit(new QueryRequest(sql, "u", Sla.of(Priority.BATCH))).report();
        assertThat(r.succeeded()).as(r.error().orElse("")).isTrue();
        assertThat(r.reservation().amount().cpuMillis()).isEqualTo(1000);
      }
    }
  }

  @Test
  void predictionsImproveWithFeedbackThroughTheGateway() throws Exception {
    try (QueryGateway gw = QueryGateway.builder().scale(SCALE).cacheDir(cache).node("n1", NODE).build()) {
      Workload w = Workload.tpch(SCALE);
      Random rnd = new Random(7);
      String[] templates = {"segment_orders", "spend_per_customer", "sorted_lines"};
      List<Double> first = new ArrayList<>();
      List<Double> last = new ArrayList<>();
      for (int round = 0; round < 8; round++) {
        for (String t : templates) {
          QueryReport r = gw.submit(new QueryRequest(w.sample(t, rnd).sql(), "u", Sla.of(Priority.STANDARD))).report();
          assertThat(r.succeeded()).as(r.error().orElse("")).isTrue();
          double q = ErrorTracker.qError(r.prediction().memoryBytes().point(), r.actual().peakMemoryBytes())
              * ErrorTracker.qError(r.prediction().cpuNanos().point(), r.actual().cpuNanos());
          (round == 0 ? first : round >= 6 ? last : new ArrayList<Double>()).add(q);
        }
      }
      double before = first.stream().mapToDouble(d -> d).average().orElseThrow();
      double after = last.stream().mapToDouble(d -> d).average().orElseThrow();
      assertThat(after).as("memory x cpu q-error, first round %s vs last rounds %s", first, last).isLessThan(before);
      assertThat(gw.errors().stats("query/memory").count()).isEqualTo(24);
    }
  }

  @Test
  void aQueryThatFailsForMemoryIsRetriedOnceOnAnExtendedReservation() throws Exception {
    // A 512 KiB floor lets the cold-start prediction under-reserve a wide sort.
    try (QueryGateway gw = QueryGateway.builder().scale(SCALE).cacheDir(cache).node("n1", NODE)
        .minMemory(512 << 10).build()) {
      String sql = "SELECT * FROM lineitem ORDER BY l_comment, l_orderkey";
      QueryReport r = gw.submit(new QueryRequest(sql, "u", Sla.of(Priority.BATCH))).report();
      if (r.attempts() == 2) {
        assertThat(r.adjustments()).first().satisfies(a -> {
          assertThat(a.kind()).isEqualTo(Adjustment.Kind.EXTENDED);
          assertThat(a.after().memoryBytes()).isEqualTo(2 * a.before().memoryBytes());
        });
        assertThat(r.reservation().amount().memoryBytes()).isGreaterThan(r.reservation().requested().memoryBytes());
      } else {
        assertThat(r.outcome()).isIn(Outcome.COMPLETED, Outcome.SPILLED);
      }
      assertThat(gw.ledger().snapshot().reservations()).isEmpty();
    }
  }
}
