package dev.penumbra.query.engine;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL server from the Debian package's binaries ({@code /usr/lib/postgresql/N/bin}): initdb
 * into a temporary directory, {@code pg_ctl start} on a free loopback port with its own socket directory, trust
 * authentication for user {@code postgres}, fsync off. When running as root the binaries run as the
 * {@code postgres} user (PostgreSQL refuses root). {@link #close} stops the server and deletes the directory.
 * Not penumbra-failover's {@code PgServer}: that one runs the product's replicated, fenced, archived nodes, and a
 * scenario module does not import another; this one is a bare server for tests and benches.
 *
 * <pre>{@code
 * Optional<Path> bin = LocalPostgres.findBinaries();   // empty: apt-get install postgresql
 * try (LocalPostgres pg = LocalPostgres.start(bin.get())) {
 *   Connection c = pg.connect();
 * }
 * }</pre>
 */
public final class LocalPostgres implements AutoCloseable {
  private final Path bin;
  private final Path dir;
  private final int port;
  private final boolean asPostgresUser;

  private LocalPostgres(Path bin, Path dir, int port, boolean asPostgresUser) {
    this.bin = bin;
    this.dir = dir;
    this.port = port;
    this.asPostgresUser = asPostgresUser;
  }

  /** The newest {@code /usr/lib/postgresql/N/bin} holding initdb and pg_ctl, if any. */
  public static Optional<Path> findBinaries() {
    Path root = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    try (Stream<Path> versions = Files.list(root)) {
      return versions.map(v -> v.resolve("bin"))
          .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
          .max(Comparator.comparing(b -> versionOf(b.getParent())));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static int versionOf(Path versionDir) {
    try {
      return Integer.parseInt(versionDir.getFileName().toString());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Initialises and starts a server; the caller closes it. */
  public static LocalPostgres start(Path bin) throws IOException, InterruptedException {
    boolean root = "root".equals(System.getProperty("user.name"));
    Path dir = Files.createTempDirectory("penumbra-pg-");
    LocalPostgres pg = new LocalPostgres(bin, dir, freePort(), root);
    try {
      Files.createDirectories(dir.resolve("socket"));
      if (root) {
        // The postgres user must own the cluster and reach it through the temp directory.
        run(List.of("chmod", "755", dir.toString()), 30);
        run(List.of("chown", "-R", "postgres:postgres", dir.toString()), 30);
      }
      pg.runPg(List.of(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", "postgres",
          "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"), 120);
      pg.runPg(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-l",
          dir.resolve("server.log").toString(), "-w", "-t", "60", "-o",
          "-p " + pg.port + " -k " + dir.resolve("socket") + " -c listen_addresses=127.0.0.1 -c fsync=off"
              + " -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=128MB"
              + " -c max_parallel_workers_per_gather=2",
          "start"), 120);
      return pg;
    } catch (IOException | InterruptedException | RuntimeException e) {
      pg.close();
      throw e;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private void runPg(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    if (asPostgresUser) {
      cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    cmd.addAll(command);
    run(cmd, timeoutSeconds);
  }

  private static void run(List<String> cmd, int timeoutSeconds) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", cmd) + " did not finish in " + timeoutSeconds + " s");
    }
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " exited with " + p.exitValue() + ": " + new String(out));
    }
  }

  public int port() {
    return port;
  }

  /** {@code jdbc:postgresql://127.0.0.1:PORT/postgres}, user postgres, no password. */
  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
  }

  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl());
  }

  /** Stops the server (fast shutdown) and deletes its directory. */
  @Override
  public void close() {
    try {
      if (Files.exists(dir.resolve("data").resolve("postmaster.pid"))) {
        runPg(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "fast",
            "-w", "stop"), 60);
      }
    } catch (IOException e) {
      // Fall through to deleting the directory; a server that failed to stop will exit when its files vanish.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // Best effort: a temp directory left behind is harmless.
    }
  }
}
