package dev.penumbra.query;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.penumbra.query.engine.LocalPostgres;
import dev.penumbra.query.engine.PostgresEngine;
import dev.penumbra.query.tpch.Tpch;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The gateway contract with PostgreSQL as the primary; skips when the Debian postgresql binaries are absent. */
class PostgresGatewayTest extends GatewayContract {
  @TempDir static Path cache;
  static LocalPostgres server;
  static PostgresEngine engine;
  static QueryGateway gateway;

  @BeforeAll
  static void start() throws Exception {
    Optional<Path> bin = LocalPostgres.findBinaries();
    assumeTrue(bin.isPresent(), "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin:"
        + " apt-get install postgresql to run the PostgreSQL gateway tests");
    server = LocalPostgres.start(bin.get());
    try (Connection c = server.connect()) {
      Tpch.loadPostgres(c, SCALE, 42);
    }
    engine = PostgresEngine.open(server.jdbcUrl(), 4, 100);
    gateway = QueryGateway.builder().scale(SCALE).cacheDir(cache).node("n1", NODE).primary(engine)
        .shadowCredit(java.time.Duration.ofMinutes(1)).build();  // see DuckDbGatewayTest
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (engine != null) {
      engine.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Override
  QueryGateway gateway() {
    return gateway;
  }
}
