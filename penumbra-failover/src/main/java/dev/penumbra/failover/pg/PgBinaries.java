package dev.penumbra.failover.pg;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * PostgreSQL's server binaries ({@code /usr/lib/postgresql/N/bin} of the Debian package) and how to run them:
 * as user {@code postgres} when this process is root (PostgreSQL refuses to run as root).
 */
public final class PgBinaries {

  private final Path bin;
  private final boolean asPostgres;

  private PgBinaries(Path bin, boolean asPostgres) {
    this.bin = bin;
    this.asPostgres = asPostgres;
  }

  /** The newest installed version holding initdb, pg_ctl and pg_basebackup; empty when none is installed. */
  public static Optional<PgBinaries> find() {
    Path root = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    try (Stream<Path> versions = Files.list(root)) {
      return versions.map(v -> v.resolve("bin"))
          .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl"))
              && Files.isExecutable(b.resolve("pg_basebackup")))
          .max(Comparator.comparing(b -> b.getParent().getFileName().toString()))
          .map(b -> new PgBinaries(b, "root".equals(System.getProperty("user.name"))));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** The tools the driver runs. */
  static final List<String> TOOLS = List.of("initdb", "pg_ctl", "pg_basebackup", "pg_receivewal", "postgres");

  /**
   * The binaries in {@code bin} (e.g. {@code /usr/lib/postgresql/15/bin}).
   *
   * @throws IllegalArgumentException naming the directory and the tools missing there
   */
  public static PgBinaries at(Path bin) {
    if (!Files.isDirectory(bin)) {
      throw new IllegalArgumentException("PostgreSQL binaries directory '" + bin + "' does not exist");
    }
    List<String> missing = TOOLS.stream().filter(t -> !Files.isExecutable(bin.resolve(t))).toList();
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("PostgreSQL binaries directory '" + bin + "' lacks " + missing);
    }
    return new PgBinaries(bin, "root".equals(System.getProperty("user.name")));
  }

  /** The directory the binaries are in. */
  public Path dir() {
    return bin;
  }

  boolean asPostgres() {
    return asPostgres;
  }

  Path bin(String tool) {
    return bin.resolve(tool);
  }

  /** Makes {@code dir} (and its parents' traversal) usable by the server's user. */
  void own(Path dir) throws IOException, InterruptedException {
    if (asPostgres) {
      run(List.of("chown", "-R", "postgres:postgres", dir.toString()), 60);
    }
  }

  /** Fails naming {@code dir} when the server's user cannot reach it. */
  void checkReachable(Path dir) throws IOException, InterruptedException {
    try {
      runPg(List.of("test", "-x", dir.toAbsolutePath().toString()), 30);
    } catch (IOException e) {
      throw new IllegalArgumentException("directory '" + dir + "' is not reachable by the PostgreSQL user"
          + (asPostgres ? " 'postgres' (make its parents traversable: chmod o+x)" : ""));
    }
  }

  /** Runs a PostgreSQL tool as the server's user; fails with its output when it exits non-zero. */
  String runPg(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    if (asPostgres) {
      cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    cmd.addAll(command);
    return run(cmd, timeoutSeconds);
  }

  static String run(List<String> cmd, int timeoutSeconds) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    // Read on the side: a child that fills the pipe would otherwise never exit.
    var out = new java.io.ByteArrayOutputStream();
    Thread reader = Thread.ofVirtual().start(() -> {
      try {
        p.getInputStream().transferTo(out);
      } catch (IOException ignored) {
        // The process ended; what was read is kept.
      }
    });
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", cmd) + " did not finish in " + timeoutSeconds + " s");
    }
    reader.join(5000);
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " exited with " + p.exitValue() + ": " + out);
    }
    return out.toString();
  }
}
