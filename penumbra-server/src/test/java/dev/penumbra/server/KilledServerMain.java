package dev.penumbra.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** A server in a process of its own, for {@link RestartAfterKillTest}: args data directory, port file. */
public final class KilledServerMain {
  private KilledServerMain() {}

  public static void main(String[] args) throws Exception {
    ServerConfig config = TestServers.config(Map.of("PENUMBRA_SERVER_DATA_DIR", args[0],
        "PENUMBRA_STREAM_ENABLED", "true", "PENUMBRA_STREAM_INTERVAL", "100ms", "PENUMBRA_TASK_ENABLED", "true"));
    PenumbraServer server = PenumbraServer.builder(config).build().start();
    if (!server.awaitReady(Duration.ofMinutes(2))) {
      System.exit(3);
    }
    Path tmp = Path.of(args[1] + ".tmp");
    Files.writeString(tmp, Integer.toString(server.port()));
    Files.move(tmp, Path.of(args[1]));
    Thread.sleep(Long.MAX_VALUE);
  }
}
