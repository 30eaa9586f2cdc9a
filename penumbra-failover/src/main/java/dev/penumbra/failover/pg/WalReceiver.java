package dev.penumbra.failover.pg;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code pg_receivewal --synchronous} streaming a primary's WAL into the archive as a synchronous standby named
 * {@value #NAME}: a commit is acknowledged only once its WAL is in the archive (as network block storage would hold
 * it), so a node replaced from the archive loses no acknowledged commit. The segment being written is kept as
 * {@code NAME.partial}, which restore reads last.
 */
final class WalReceiver {

  static final String NAME = "archiver";

  private final Process process;
  private final Path log;

  private WalReceiver(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /** What it printed (for error messages). */
  String log() {
    try {
      return java.nio.file.Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** Streams {@code primary}'s WAL into a new folder named after it under {@code streams}. */
  static WalReceiver start(PgBinaries bin, PgServer primary, Path streams) throws IOException, InterruptedException {
    Path dir = streams.resolve(primary.name());
    java.nio.file.Files.createDirectories(dir);
    bin.own(dir);
    List<String> cmd = new ArrayList<>();
    if (bin.asPostgres()) {
      cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    cmd.addAll(List.of(bin.bin("pg_receivewal").toString(), "-D", dir.toString(), "--synchronous",
        "-n", "-v", "-s", "1", "-d",
        "host=127.0.0.1 port=" + primary.port() + " user=postgres application_name=" + NAME));
    Path log = streams.resolve("receivewal-" + primary.name() + ".log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    return new WalReceiver(p, log);
  }

  boolean alive() {
    return process.isAlive();
  }

  /** Stops it (its primary is gone or replaced). */
  void stop() {
    process.descendants().forEach(ProcessHandle::destroy);
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
