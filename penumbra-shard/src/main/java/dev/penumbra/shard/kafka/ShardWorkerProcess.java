package dev.penumbra.shard.kafka;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ShardWorker} as a separate JVM started with this JVM's classpath: what a deployment runs per pool, and
 * what the tests kill with {@code kill -9}.
 */
public final class ShardWorkerProcess implements AutoCloseable {

  private final String pool;
  private final Process process;

  private ShardWorkerProcess(String pool, Process process) {
    this.pool = pool;
    this.process = process;
  }

  /**
   * Starts a worker for {@code pool}; {@code options} are its further {@code --name value} options
   * (e.g. {@code function=key-sum}); its output goes to {@code log}.
   */
  public static ShardWorkerProcess start(String bootstrap, String pool, Map<String, String> options, Path log)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx128m");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(ShardWorker.class.getName());
    cmd.add("--bootstrap");
    cmd.add(bootstrap);
    cmd.add("--pool");
    cmd.add(pool);
    options.forEach((k, v) -> {
      cmd.add("--" + k);
      cmd.add(v);
    });
    File out = log.toFile();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(out))
        .start();
    return new ShardWorkerProcess(pool, p);
  }

  public String pool() {
    return pool;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Kills it as a crash would: {@code kill -9}, no shutdown hook, nothing flushed. */
  public void kill9() throws IOException, InterruptedException {
    Process k = new ProcessBuilder("kill", "-9", Long.toString(process.pid())).inheritIO().start();
    if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
      throw new IOException("kill -9 " + process.pid() + " failed");
    }
    process.waitFor(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
