package dev.penumbra.server;

import static dev.penumbra.server.ServerApiTest.assertError;
import static dev.penumbra.server.TestServers.get;
import static dev.penumbra.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.penumbra.failover.pg.PgBinaries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code failover.driver: postgres}: {@code /v1/failover/nodes} drives real PostgreSQL nodes the server starts on
 * 127.0.0.1. A node at risk gets a synchronous standby, at the promote threshold the standby is promoted, the old
 * primary fenced and the node's endpoint redirected, with every acknowledged commit on the new primary; a node whose
 * postmaster is killed with {@code kill -9} is detected and failed over.
 */
class FailoverPostgresApiTest {

  @TempDir Path dir;

  /** Commits through the node's current primary as the server names it; on an error asks the server again. */
  static final class Writer implements Runnable {
    final PenumbraServer server;
    final String node;
    final AtomicBoolean stop = new AtomicBoolean();
    final List<Long> acked = new ArrayList<>();
    volatile String lastError;

    Writer(PenumbraServer server, String node) {
      this.server = server;
      this.node = node;
    }

    @Override
    public void run() {
      Connection c = null;
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      // Bounded in count and time.
      for (long id = 0; id < 200_000 && !stop.get() && System.nanoTime() < deadline; id++) {
        try {
          if (c == null) {
            c = DriverManager.getConnection(get(server, "/v1/failover/nodes/" + node).json()
                .at("/primary/jdbcUrl").asText());
          }
          try (Statement st = c.createStatement()) {
            st.execute("INSERT INTO acked VALUES (" + id + ")");
          }
          synchronized (this) {
            acked.add(id);
          }
        } catch (Exception e) {
          lastError = e.toString();
          close(c);
          c = null;
          LockSupport.parkNanos(20_000_000L);
        }
        LockSupport.parkNanos(2_000_000L);
      }
      close(c);
    }

    synchronized int count() {
      return acked.size();
    }

    synchronized List<Long> ids() {
      return List.copyOf(acked);
    }

    private static void close(Connection c) {
      if (c != null) {
        try {
          c.close();
        } catch (SQLException ignored) {
          // Broken already.
        }
      }
    }
  }

  private static JsonNode awaitNode(PenumbraServer s, String node, String standby) {
    JsonNode[] last = new JsonNode[1];
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).until(() -> {
      last[0] = get(s, "/v1/failover/nodes/" + node).json();
      return last[0].get("standby").asText().equals(standby);
    });
    return last[0];
  }

  private static void awaitMoves(PenumbraServer s, String node, int moves) {
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100))
        .until(() -> get(s, "/v1/failover/nodes/" + node).json().get("moves").asInt() >= moves);
  }

  private static Set<Long> idsOn(String jdbcUrl) throws SQLException {
    Set<Long> out = new HashSet<>();
    try (Connection c = DriverManager.getConnection(jdbcUrl); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT id FROM acked")) {
      while (rs.next()) {
        out.add(rs.getLong(1));
      }
    }
    return out;
  }

  /** Whether the process exists and is not a zombie (a killed postmaster is not ours to reap; init does it later). */
  private static boolean running(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private static void kill9(long pid) throws Exception {
    Process p = new ProcessBuilder("kill", "-9", Long.toString(pid)).redirectErrorStream(true).start();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes())).isZero();
  }

  @Test
  void realNodesAreProvisionedPromotedFencedAndFailedOverAfterKill9() throws Exception {
    assumeTrue(PgBinaries.find().isPresent(), "PostgreSQL server binaries not found under /usr/lib/postgresql/N/bin:"
        + " skipping the real-node server test (apt-get install postgresql)");
    Path data = Files.createDirectories(dir.resolve("data"));
    // The servers run as user postgres when the tests run as root: it must reach the data directory.
    new ProcessBuilder("chmod", "755", dir.toString(), data.toString()).start().waitFor();
    try (PenumbraServer s = TestServers.started(Map.of("PENUMBRA_FAILOVER_DATA", dir.resolve("none").toString(),
        "PENUMBRA_FAILOVER_DRIVER", "postgres", "PENUMBRA_SERVER_DATA_DIR", data.toString(),
        "PENUMBRA_QUERY_ENABLED", "false", "PENUMBRA_STREAM_ENABLED", "false", "PENUMBRA_TASK_ENABLED", "false"))) {
      await().atMost(Duration.ofSeconds(60))
          .until(() -> List.of("manual", "failed").contains(get(s, "/v1/failover/nodes").json().get("mode").asText()));
      JsonNode overview = get(s, "/v1/failover/nodes").json();
      assertThat(overview.get("mode").asText()).as(overview.toString()).isEqualTo("manual");
      assertThat(overview.get("driver").asText()).isEqualTo("postgres");

      // Names name PostgreSQL servers: '-' is refused here, naming the field and value, and nothing is started.
      assertError(post(s, "/v1/failover/nodes", "{\"name\":\"db-1\"}"), 400, "name", "db-1");
      TestServers.Reply r = post(s, "/v1/failover/nodes", "{\"name\":\"db1\"}");
      assertThat(r.status()).as(r.body()).isEqualTo(201);
      JsonNode first = r.json().get("primary");
      assertThat(first.get("host").asText()).isEqualTo("127.0.0.1");
      assertThat(r.json().get("standbyServer").isNull()).isTrue();
      assertThat(Files.isDirectory(data.resolve("failover-postgres").resolve("nodes"))).isTrue();
      try (Connection c = DriverManager.getConnection(first.get("jdbcUrl").asText());
          Statement st = c.createStatement()) {
        st.execute("CREATE TABLE acked (id bigint PRIMARY KEY)");
      }
      Writer w = new Writer(s, "db1");
      Thread t = Thread.ofPlatform().name("writer-db1").start(w);
      await().atMost(Duration.ofSeconds(30)).until(() -> w.count() >= 20);

      // At risk: a real synchronous standby, reserved WARM through the loop.
      post(s, "/v1/failover/nodes/db1/risk", "{\"risk\":0.8}");
      JsonNode warm = awaitNode(s, "db1", "warm");
      assertThat(warm.at("/grant/state").asText()).isEqualTo("warm");
      String standbyName = warm.at("/standbyServer/name").asText();
      try (Connection c = DriverManager.getConnection(first.get("jdbcUrl").asText());
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT sync_state FROM pg_stat_replication WHERE application_name = '"
              + standbyName + "'")) {
        assertThat(rs.next()).as("standby " + standbyName + " streams from the primary").isTrue();
        assertThat(rs.getString(1)).isEqualTo("sync");
      }

      // At the promote threshold the work moves: old primary fenced, standby promoted, the node's endpoint redirected.
      int before = w.count();
      post(s, "/v1/failover/nodes/db1/risk", "{\"risk\":0.95}");
      awaitMoves(s, "db1", 1);
      // At risk again on its new hardware: a new synchronous standby of the new primary.
      post(s, "/v1/failover/nodes/db1/risk", "{\"risk\":0.8}");
      JsonNode promoted = awaitNode(s, "db1", "warm");
      assertThat(promoted.get("standbysProvisioned").asInt()).isEqualTo(2);
      assertThat(promoted.get("failovers")).hasSize(1);
      JsonNode ev = promoted.get("failovers").get(0);
      assertThat(ev.get("cause").asText()).isEqualTo("planned");
      assertThat(ev.get("withStandby").asBoolean()).isTrue();
      assertThat(ev.get("simulated").asBoolean()).isFalse();
      assertThat(ev.has("error")).as(ev.toString()).isFalse();
      JsonNode now = promoted.get("primary");
      assertThat(now.get("name").asText()).isEqualTo(standbyName);
      assertThat(now.get("port").asInt()).isNotEqualTo(first.get("port").asInt());
      assertThat(promoted.at("/standbyServer/port").asInt()).isNotIn(first.get("port").asInt(),
          now.get("port").asInt());
      try (Connection c = DriverManager.getConnection(now.get("jdbcUrl").asText());
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT sync_state FROM pg_stat_replication WHERE application_name = '"
              + promoted.at("/standbyServer/name").asText() + "'")) {
        assertThat(rs.next()).as("the new standby streams from the new primary").isTrue();
        assertThat(rs.getString(1)).isEqualTo("sync");
      }
      // The old primary is refused: its postmaster is gone and nothing answers on its address.
      assertThat(running(first.get("pid").asLong())).as("old postmaster running").isFalse();
      assertThatThrownBy(() -> DriverManager.getConnection(first.get("jdbcUrl").asText()).close())
          .isInstanceOf(SQLException.class);
      // The writer found the new primary through the server and commits there; nothing it saw acknowledged is lost.
      await().atMost(Duration.ofSeconds(60)).until(() -> w.count() >= before + 50);
      w.stop.set(true);
      t.join(30_000);
      Set<Long> present = idsOn(now.get("jdbcUrl").asText());
      List<Long> acked = w.ids();
      assertThat(acked.size()).isGreaterThan(before);
      assertThat(acked.stream().filter(id -> !present.contains(id)).toList()).as("acknowledged commits lost")
          .isEmpty();

      // kill -9 of a node's postmaster: the health checks detect it and the node fails over to its standby.
      assertThat(post(s, "/v1/failover/nodes", "{\"name\":\"db2\"}").status()).isEqualTo(201);
      post(s, "/v1/failover/nodes/db2/risk", "{\"risk\":0.8}");
      JsonNode db2 = awaitNode(s, "db2", "warm");
      long pid = db2.at("/primary/pid").asLong();
      kill9(pid);
      awaitMoves(s, "db2", 1);
      JsonNode moved = get(s, "/v1/failover/nodes/db2").json();
      JsonNode detected = moved.get("failovers").get(0);
      assertThat(detected.get("cause").asText()).isEqualTo("detected");
      assertThat(detected.get("withStandby").asBoolean()).isTrue();
      assertThat(moved.get("healthy").asBoolean()).isTrue();
      assertThat(moved.at("/primary/name").asText()).isEqualTo(db2.at("/standbyServer/name").asText());
      try (Connection c = DriverManager.getConnection(moved.at("/primary/jdbcUrl").asText());
          Statement st = c.createStatement()) {
        st.execute("CREATE TABLE written_after_failover (x int)");
      }
    }
    // Closing the server stops its PostgreSQL servers.
    assertThat(Files.exists(data.resolve("failover-postgres").resolve("nodes"))).isFalse();
  }

  @Test
  void aNodeWithoutAFreePortIsRefusedNamingTheRangeAndNothingIsLeft() throws Exception {
    assumeTrue(PgBinaries.find().isPresent(), "PostgreSQL server binaries not found under /usr/lib/postgresql/N/bin:"
        + " skipping the real-node server test (apt-get install postgresql)");
    Path data = Files.createDirectories(dir.resolve("data"));
    new ProcessBuilder("chmod", "755", dir.toString(), data.toString()).start().waitFor();
    int port;
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    try (PenumbraServer s = TestServers.started(Map.of("PENUMBRA_FAILOVER_DATA", dir.resolve("none").toString(),
        "PENUMBRA_FAILOVER_DRIVER", "postgres", "PENUMBRA_SERVER_DATA_DIR", data.toString(),
        "PENUMBRA_FAILOVER_POSTGRES_PORTS", Integer.toString(port),
        "PENUMBRA_QUERY_ENABLED", "false", "PENUMBRA_STREAM_ENABLED", "false", "PENUMBRA_TASK_ENABLED", "false"))) {
      await().atMost(Duration.ofSeconds(60))
          .until(() -> get(s, "/v1/failover/nodes").json().get("mode").asText().equals("manual"));
      // Another process takes the range's only port after the configuration was checked.
      try (java.net.ServerSocket taken = new java.net.ServerSocket(port, 1,
          java.net.InetAddress.getLoopbackAddress())) {
        assertError(post(s, "/v1/failover/nodes", "{\"name\":\"db1\"}"), 503, "failover.postgresPorts",
            port + "-" + port);
        assertThat(get(s, "/v1/failover/nodes").json().get("nodes")).isEmpty();
      }
      // Free again: the same name registers, on that port.
      TestServers.Reply r = post(s, "/v1/failover/nodes", "{\"name\":\"db1\"}");
      assertThat(r.status()).as(r.body()).isEqualTo(201);
      assertThat(r.json().at("/primary/port").asInt()).isEqualTo(port);
    }
  }
}
