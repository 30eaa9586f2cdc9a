package dev.penumbra.failover.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Allocator;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.failover.FailoverEvent;
import dev.penumbra.failover.ShadowNodeManager;
import dev.penumbra.failover.StandbyState;
import dev.penumbra.failover.WorkloadOrchestrator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The manager and orchestrator on real PostgreSQL, with a client writing all along: a standby at risk, promotion
 * before the failure, then a crash of the new primary detected by health checks with no standby (replacement from
 * the archive); no acknowledged commit is lost on either path.
 */
class ShadowNodesOnPostgresTest {

  @Test
  void provisionPromoteAndDetectWithAWriterRunning() throws Exception {
    Optional<PgBinaries> bin = PgBinaries.find();
    assumeTrue(bin.isPresent(),
        "PostgreSQL server binaries not found under /usr/lib/postgresql/N/bin: apt-get install postgresql");
    Path root = Files.createTempDirectory("penumbra-shadow-test-");
    PgBinaries.run(List.of("chmod", "755", root.toString()), 30);
    Ledger ledger = Ledger.inMemory(Clock.systemUTC());
    ledger.addNode("standby-pool", Resources.of(2000, 2L << 30));
    AtomicBoolean stop = new AtomicBoolean();
    try (PgNodeDriver driver = new PgNodeDriver(bin.get(), root.resolve("nodes"), root.resolve("archive"));
        Allocator allocator = Allocator.builder(ledger).lease(Duration.ofHours(1)).build();
        ShadowNodeManager manager = ShadowNodeManager.builder(driver, allocator, ledger).budget(1).build()) {
      Endpoint e = driver.createNode("gamma");
      try (Connection c = e.connect(); Statement st = c.createStatement()) {
        st.execute("CREATE TABLE acked (id bigint PRIMARY KEY)");
      }
      manager.register("gamma");
      WorkloadOrchestrator orchestrator = new WorkloadOrchestrator(manager, 2);
      ConcurrentLinkedQueue<Long> acked = new ConcurrentLinkedQueue<>();
      Thread writer = Thread.ofPlatform().start(() -> {
        long id = 0;
        // Bounded: at most 200k attempts, stopped by the test.
        for (int attempt = 0; attempt < 200_000 && !stop.get(); attempt++) {
          try (Connection c = e.connect(); Statement st = c.createStatement()) {
            while (!stop.get()) {
              st.execute("INSERT INTO acked VALUES (" + id + ")");
              acked.add(id++);
            }
          } catch (SQLException ex) {
            id++;
            try {
              Thread.sleep(10);
            } catch (InterruptedException ie) {
              return;
            }
          }
        }
      });
      manager.observe("gamma", 0.75);
      Awaitility.await().atMost(Duration.ofSeconds(90))
          .until(() -> manager.status("gamma").standby() == StandbyState.READY);
      assertThat(ledger.snapshot().reservations()).anySatisfy(r -> assertThat(r.owner()).isEqualTo("standby:gamma"));
      PgServer first = driver.primary("gamma");
      manager.observe("gamma", 0.95);
      Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> orchestrator.events().size() == 1);
      assertThat(orchestrator.events()).singleElement().satisfies(ev -> {
        assertThat(ev.cause()).isEqualTo(FailoverEvent.Cause.PLANNED);
        assertThat(ev.withStandby()).isTrue();
        assertThat(ev.error()).isNull();
      });
      assertThat(first.fenced()).isTrue();
      int before = acked.size();
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() > before + 50);
      // Everything acknowledged so far is on the promoted standby.
      List<Long> snapshot = List.copyOf(acked);
      assertThat(ids(e)).containsAll(snapshot);

      // The new primary crashes with no standby: detected by health checks, replaced from the archive.
      driver.crashPrimary("gamma");
      Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100))
          .until(() -> {
            orchestrator.checkHealth();
            return orchestrator.events().size() == 2;
          });
      FailoverEvent detected = orchestrator.events().get(1);
      assertThat(detected.cause()).isEqualTo(FailoverEvent.Cause.DETECTED);
      assertThat(detected.withStandby()).isFalse();
      assertThat(detected.error()).isNull();
      int afterReplace = acked.size();
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() > afterReplace + 10);
      stop.set(true);
      writer.join(10_000);
      // The archive receiver was synchronous: the replacement lost nothing acknowledged either.
      assertThat(ids(e)).containsAll(List.copyOf(acked));
      assertThat(manager.status("gamma").moves()).isEqualTo(2);
      assertThatThrownBy(() -> manager.observe("gamma", Double.NaN)).hasMessageContaining("NaN");
    } finally {
      stop.set(true);
      PgServer.delete(root);
    }
  }

  static List<Long> ids(Endpoint e) throws SQLException {
    try (Connection c = e.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT id FROM acked ORDER BY id")) {
      java.util.ArrayList<Long> out = new java.util.ArrayList<>();
      while (rs.next()) {
        out.add(rs.getLong(1));
      }
      return out;
    }
  }
}
