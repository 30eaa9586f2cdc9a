package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {
  @TempDir Path dir;

  @Test
  void defaultsAreDocumentedValues() {
    ServerConfig c = ServerConfig.defaults();
    assertThat(c.server().port()).isEqualTo(8080);
    assertThat(c.server().host()).isEqualTo("127.0.0.1");
    assertThat(c.server().maxBodyBytes()).isEqualTo(65536);
    assertThat(c.ledger().memory()).isEqualTo(1L << 30);
    assertThat(c.ledger().capacity().cpuMillis()).isEqualTo(Runtime.getRuntime().availableProcessors() * 1000L);
    assertThat(c.query().scale()).isEqualTo(0.1);
    assertThat(c.query().cacheDirPath()).isEmpty();
    assertThat(c.query().timeout()).isEqualTo(Duration.ofMinutes(2));
  }

  @Test
  void fileThenEnvironmentOverride() throws Exception {
    Path f = write("server:\n  port: 9001\n  shutdownGrace: 5s\nledger:\n  memory: 2GiB\n  cores: 3\nquery:\n  scale: 0.01\n");
    ServerConfig c = ServerConfig.load(f, Map.of("PENUMBRA_SERVER_PORT", "9002", "PENUMBRA_QUERY_MAX_ROWS", "7"));
    assertThat(c.server().port()).isEqualTo(9002);
    assertThat(c.server().shutdownGrace()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.ledger().capacity().cpuMillis()).isEqualTo(3000);
    assertThat(c.ledger().memory()).isEqualTo(2L << 30);
    assertThat(c.query().scale()).isEqualTo(0.01);
    assertThat(c.query().maxRows()).isEqualTo(7);
    assertThat(ServerConfig.envName("query", "engineInstances")).isEqualTo("PENUMBRA_QUERY_ENGINE_INSTANCES");
  }

  @Test
  void invalidValuesNameKeyAndValue() throws Exception {
    assertInvalid("server:\n  port: 70000\n", "server.port", "70000");
    assertInvalid("server:\n  port: eighty\n", "server.port", "eighty");
    assertInvalid("ledger:\n  memory: lots\n", "ledger.memory", "lots");
    assertInvalid("ledger:\n  memory: 1MiB\n", "ledger.memory", "1MiB");
    assertInvalid("query:\n  scale: -1\n", "query.scale", "-1");
    assertInvalid("query:\n  timeout: soon\n", "query.timeout", "soon");
    assertInvalid("query:\n  enabled: maybe\n", "query.enabled", "maybe");
    assertInvalid("stream:\n  enabled: maybe\n", "stream.enabled", "maybe");
    assertInvalid("stream:\n  interval: 2h\n", "stream.interval", "2h");
    assertInvalid("task:\n  maxRunning: 0\n", "task.maxRunning", "0");
    assertInvalid("server:\n  prot: 80\n", "server.prot", "80");
    assertInvalid("sever:\n  port: 80\n", "sever", "");
    assertInvalid("server: [1, 2]\n", "server", "[1,2]");
    assertInvalid("server:\n  port: [\n", "(file)", "");
    assertInvalid("failover:\n  provision: 1.5\n", "failover.provision", "1.5");
    assertInvalid("failover:\n  provision: 0.95\n", "failover.provision", "0.95");
    assertInvalid("failover:\n  decommission: 0.8\n", "failover.decommission", "0.8");
    assertInvalid("failover:\n  thresholds: tuned\n", "failover.thresholds", "tuned");
    assertInvalid("failover:\n  nodes: 99\n", "failover.nodes", "99");
    assertInvalid("failover:\n  dayEvery: 1ms\n", "failover.dayEvery", "1ms");
    assertInvalid("failover:\n  driver: mysql\n", "failover.driver", "mysql");
    assertInvalid("failover:\n  postgresPorts: 5432-\n", "failover.postgresPorts", "5432-");
    assertInvalid("failover:\n  postgresPorts: 900-1000\n", "failover.postgresPorts", "900-1000");
    assertInvalid("failover:\n  postgresPorts: 60000-50000\n", "failover.postgresPorts", "60000-50000");
  }

  @Test
  void invalidEnvironmentNamesKey() {
    assertThatThrownBy(() -> ServerConfig.load(null, Map.of("PENUMBRA_SERVER_PORT", "-5")))
        .isInstanceOf(ServerConfig.ConfigException.class).hasMessageContaining("server.port = '-5'");
    assertThatThrownBy(() -> ServerConfig.defaults().withPort(99999)).hasMessageContaining("server.port = '99999'");
  }

  @Test
  void duplicateKeysAbsurdSizesAndMisspeltOverridesAreRefused() throws Exception {
    Path dup = write("server:\n  port: 8080\n  port: 9090\n");
    assertThatThrownBy(() -> ServerConfig.load(dup, Map.of())).isInstanceOf(ServerConfig.ConfigException.class)
        .hasMessageContaining("Duplicate field 'port'");
    assertInvalid("ledger:\n  memory: 100000TiB\n", "ledger.memory", "100000TiB");
    assertThatThrownBy(() -> ServerConfig.load(null, Map.of("PENUMBRA_LEDGER_MEMRY", "2GiB")))
        .isInstanceOf(ServerConfig.ConfigException.class)
        .hasMessageContaining("PENUMBRA_LEDGER_MEMRY").hasMessageContaining("PENUMBRA_LEDGER_MEMORY");
    // Variables of other tools that merely start with PENUMBRA_ stay allowed.
    assertThat(ServerConfig.load(null, Map.of("PENUMBRA_JAVA_OPTS", "-Xmx1g")).server().port()).isEqualTo(8080);
  }

  @Test
  void thePostgresDriverNeedsADataDirectoryBinariesAndAFreePort() throws Exception {
    // Checked at load, before anything starts: no data directory for the servers, binaries missing, every port taken.
    assertInvalid("failover:\n  driver: postgres\n", "failover.driver", "postgres");
    String withDir = "server:\n  dataDir: " + dir.resolve("data") + "\nfailover:\n  driver: postgres\n";
    Path empty = Files.createDirectories(dir.resolve("bin"));
    assertInvalid(withDir + "  postgresBin: " + empty + "\n", "failover.postgresBin", empty.toString());
    assertInvalid(withDir + "  postgresBin: " + dir.resolve("nope") + "\n", "failover.postgresBin",
        dir.resolve("nope").toString());
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      if (dev.penumbra.failover.pg.PgBinaries.find().isPresent()) {
        assertInvalid(withDir + "  postgresPorts: " + port + "\n", "failover.postgresPorts", port + "-" + port);
        // A range with room: the port after the taken one may be another process's on a busy machine.
        ServerConfig ok = ServerConfig.load(write(withDir + "  postgresPorts: " + port + "-" + (port + 20) + "\n"),
            Map.of());
        assertThat(ok.failover().postgres()).isTrue();
        assertThat(ok.failover().postgresPorts().first()).isEqualTo(port);
      }
    }
    // The demo's default stays bookkeeping: nothing is checked for a driver not in use.
    assertThat(ServerConfig.defaults().failover().driver()).isEqualTo("bookkeeping");
  }

  private void assertInvalid(String yaml, String key, String value) throws Exception {
    Path f = write(yaml);
    assertThatThrownBy(() -> ServerConfig.load(f, Map.of()))
        .isInstanceOf(ServerConfig.ConfigException.class)
        .satisfies(e -> {
          assertThat(((ServerConfig.ConfigException) e).key()).isEqualTo(key);
          assertThat(e.getMessage()).contains(key).contains(value);
        });
  }

  private Path write(String yaml) throws Exception {
    Path f = Files.createTempFile(dir, "config", ".yaml");
    Files.writeString(f, yaml);
    return f;
  }
}
