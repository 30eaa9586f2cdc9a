package dev.penumbra.failover.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Real PostgreSQL: provision, sync, prewarm, promote, fence, redirect, restore from the archive. */
class PgNodeDriverTest {

  static PgBinaries bin;
  static Path root;
  static PgNodeDriver driver;

  @BeforeAll
  static void setUp() throws Exception {
    Optional<PgBinaries> found = PgBinaries.find();
    assumeTrue(found.isPresent(),
        "PostgreSQL server binaries not found under /usr/lib/postgresql/N/bin: apt-get install postgresql");
    bin = found.get();
    root = Files.createTempDirectory("penumbra-failover-test-");
    PgBinaries.run(List.of("chmod", "755", root.toString()), 30);
    driver = new PgNodeDriver(bin, root.resolve("nodes"), root.resolve("archive"));
  }

  @AfterAll
  static void tearDown() {
    if (driver != null) {
      driver.close();
    }
    if (root != null) {
      PgServer.delete(root);
    }
  }

  static void createTable(Endpoint e) throws SQLException {
    try (Connection c = e.connect(); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE acked (id bigint PRIMARY KEY, pad text)");
    }
  }

  /** Inserts ids [from, to) one commit each; returns those acknowledged. */
  static List<Long> write(Endpoint e, long from, long to) throws SQLException {
    List<Long> acked = new ArrayList<>();
    try (Connection c = e.connect(); Statement st = c.createStatement()) {
      for (long i = from; i < to; i++) {
        st.execute("INSERT INTO acked VALUES (" + i + ", repeat('x', 200))");
        acked.add(i);
      }
    }
    return acked;
  }

  static List<Long> ids(Endpoint e) throws SQLException {
    List<Long> out = new ArrayList<>();
    try (Connection c = e.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT id FROM acked ORDER BY id")) {
      while (rs.next()) {
        out.add(rs.getLong(1));
      }
    }
    return out;
  }

  @Test
  void standbyInSyncIsPromotedAfterACrashWithEveryAcknowledgedCommit() throws Exception {
    Endpoint e = driver.createNode("alpha");
    createTable(e);
    List<Long> acked = new ArrayList<>(write(e, 0, 200));
    driver.provisionStandby("alpha");
    PgServer standby = driver.standby("alpha");
    assertThat(standby).isNotNull();
    assertThat(standby.inRecovery()).isTrue();
    assertThat(driver.prewarmedBlocks("alpha")).isPositive();
    // Client connections wait opened on the standby, not handed out while it is one.
    assertThat(e.warmConnections()).isEqualTo(PgNodeDriver.DEFAULT_WARM_CONNECTIONS);
    acked.addAll(write(e, 200, 400));
    assertThat(e.warmConnections()).isEqualTo(PgNodeDriver.DEFAULT_WARM_CONNECTIONS);
    // The promoted node's archive receiver already streams from the standby (cascading).
    long[] archiver = new long[1];
    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> {
      archiver[0] = archiverPid(standby);
      return archiver[0] > 0;
    });
    PgServer old = driver.primary("alpha");
    assertThat(driver.healthy("alpha")).isTrue();
    driver.crashPrimary("alpha");
    assertThat(driver.healthy("alpha")).isFalse();
    driver.promoteStandby("alpha");
    assertThat(e.target()).isSameAs(standby);
    assertThat(e.generation()).isEqualTo(1);
    assertThat(e.switches()).singleElement().satisfies(sw -> {
      assertThat(sw.to()).isSameAs(standby);
      assertThat(sw.warmConnections()).isEqualTo(PgNodeDriver.DEFAULT_WARM_CONNECTIONS);
      assertThat(sw.redirectedAtNanos()).isGreaterThanOrEqualTo(sw.heldAtNanos());
    });
    // The first client gets a session opened while the server was a standby: it writes now that it is promoted.
    try (Connection warm = e.connect(); Statement st = warm.createStatement()) {
      assertThat(e.warmConnections()).isEqualTo(PgNodeDriver.DEFAULT_WARM_CONNECTIONS - 1);
      st.execute("INSERT INTO acked VALUES (100000, 'warm')");
      acked.add(100000L);
    }
    assertThat(ids(e)).containsExactlyInAnyOrderElementsOf(acked);
    // The same receiver followed the promotion onto the new timeline, and is the new primary's synchronous standby.
    assertThat(archiverPid(standby)).isEqualTo(archiver[0]);
    try (Connection c = standby.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT sync_state FROM pg_stat_replication WHERE application_name = 'archiver'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("sync");
    }
    acked.addAll(write(e, 400, 410));
    // What the promoted node acknowledged is in the archive: a replacement of it restores all of it.
    driver.crashPrimary("alpha");
    driver.replaceFromArchive("alpha");
    assertThat(ids(e)).containsExactlyInAnyOrderElementsOf(acked);
    assertThat(old.fenced()).isTrue();
    assertThatThrownBy(old::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("fenced");
    assertThatThrownBy(() -> driver.promoteStandby("alpha")).hasMessageContaining("no standby");
  }

  /** The pid of the walsender serving the archive receiver on {@code s}, or 0 while none streams. */
  private static long archiverPid(PgServer s) throws SQLException {
    try (Connection c = s.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT pid FROM pg_stat_replication WHERE application_name = 'archiver'"
            + " AND state = 'streaming'")) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  @Test
  void fencedPrimaryStartedBehindOurBackComesUpReadOnly() throws Exception {
    PgServer s = PgServer.newPrimary(bin, root.resolve("fence"), "fence_g0", WalArchive.at(root.resolve("archive"),
        bin), "fence");
    try {
      try (Connection c = s.connect(); Statement st = c.createStatement()) {
        st.execute("CREATE TABLE t (x int)");
      }
      s.fence();
      assertThat(s.alive()).isFalse();
      // Someone restarts the postmaster by hand, bypassing the driver: it comes back as a read-only standby.
      // (Retried while the killed server's last backends are still exiting and hold its shared memory.)
      Awaitility.await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
        bin.runPg(List.of(bin.bin("pg_ctl").toString(), "-D", s.data().toString(), "-l",
            root.resolve("fence").resolve("server.log").toString(), "-w", "-t", "30", "-o",
            "-p " + s.port() + " -k " + root.resolve("fence").resolve("socket"), "start"), 45);
        return true;
      });
      try (Connection c = s.connect(); Statement st = c.createStatement()) {
        assertThatThrownBy(() -> st.execute("INSERT INTO t VALUES (1)"))
            .isInstanceOf(SQLException.class).hasMessageContaining("read-only");
      }
    } finally {
      s.destroy();
    }
  }

  @Test
  void nodeWithoutStandbyIsRestoredFromTheArchive() throws Exception {
    Endpoint e = driver.createNode("beta");
    createTable(e);
    List<Long> acked = write(e, 0, 300);
    // No WAL switch, no wait for archive_command: the archive receiver is synchronous.
    driver.crashPrimary("beta");
    driver.replaceFromArchive("beta");
    assertThat(ids(e)).containsExactlyElementsOf(acked);
    assertThat(write(e, 1000, 1010)).hasSize(10);
    assertThat(driver.primary("beta").inRecovery()).isFalse();
  }

  @Test
  void unknownNodesAndBadNamesAreRefused() {
    assertThatThrownBy(() -> driver.healthy("nope")).hasMessageContaining("unknown node 'nope'");
    assertThatThrownBy(() -> driver.createNode("Bad Name")).hasMessageContaining("'Bad Name'");
  }
}
