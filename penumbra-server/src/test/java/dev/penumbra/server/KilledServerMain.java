package dev.penumbra.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** A server in a process of its own, for {@link RestartAfterKillTest}: args data directory, port file
 * [, {@code query-only}]. */
public final class KilledServerMain {
  /** The other capabilities off: a server that only runs queries. */
  static final Map<String, String> QUERY_ONLY = Map.of("PENUMBRA_STREAM_ENABLED", "false", "PENUMBRA_TASK_ENABLED",
      "false", "PENUMBRA_FAILOVER_ENABLED", "false");

  private KilledServerMain() {}

  public static void main(String[] args) throws Exception {
    boolean queryOnly = args.length > 2 && args[2].equals("query-only");
    Map<String, String> env = new java.util.HashMap<>(Map.of("PENUMBRA_SERVER_DATA_DIR", args[0],
        "PENUMBRA_STREAM_ENABLED", "true", "PENUMBRA_STREAM_INTERVAL", "100ms", "PENUMBRA_TASK_ENABLED", "true"));
    if (queryOnly) {
      env.putAll(QUERY_ONLY);
    }
    ServerConfig config = TestServers.config(env);
    PenumbraServer server = PenumbraServer.builder(config).build().start();
    if (!server.awaitReady(Duration.ofMinutes(2))) {
      System.exit(3);
    }
    if (queryOnly) {
      // Every query sampled, whatever the shadow budget: the model learns from each one (JournalAfterKillTest).
      ((QueryCapability) server.capability("query").orElseThrow()).gateway().shadowAlways(true);
    }
    Path tmp = Path.of(args[1] + ".tmp");
    Files.writeString(tmp, Integer.toString(server.port()));
    Files.move(tmp, Path.of(args[1]));
    Thread.sleep(Long.MAX_VALUE);
  }
}
