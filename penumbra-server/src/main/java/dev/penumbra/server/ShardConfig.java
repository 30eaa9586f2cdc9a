package dev.penumbra.server;

import dev.penumbra.core.Priority;
import dev.penumbra.server.ServerConfig.ConfigException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where the shard capability ({@code /v1/requests}) runs shards ({@code shard.*} keys; docs/sharding.md, "In the
 * server"): on this machine's node (in-process, the default) or on Kafka pools, each serving one priority with its
 * own workers.
 *
 * @param transport {@code in-process} or {@code kafka}
 * @param bootstrap Kafka's bootstrap servers, {@code host:port,...}, loopback addresses only (kafka)
 * @param pools the Kafka pools (kafka), at least one
 * @param startWorkers true: the server starts each pool's worker processes and stops them with itself; false: it
 *     expects them running ({@code shard.workers = external})
 * @param heartbeatTimeout a pool none of whose workers beat for this long is taken for dead
 * @param history the JDBC URL of the history of finished shards ({@code jdbc:duckdb:FILE} or
 *     {@code jdbc:postgresql:...}); blank: an in-memory DuckDB, forgotten at exit
 */
public record ShardConfig(String transport, String bootstrap, List<Pool> pools, boolean startWorkers,
    Duration heartbeatTimeout, String history) {

  public static final String IN_PROCESS = "in-process";
  public static final String KAFKA = "kafka";
  public static final ShardConfig DEFAULT = new ShardConfig(IN_PROCESS, "", List.of(), true, Duration.ofSeconds(2),
      "");

  @Override
  public String toString() {
    // The history URL may hold a password.
    return "ShardConfig[transport=" + transport + ", bootstrap=" + bootstrap + ", pools=" + pools + ", startWorkers="
        + startWorkers + ", heartbeatTimeout=" + heartbeatTimeout + ", history=" + shown(history) + "]";
  }

  /** A URL as error messages may show it: not when it holds a password. */
  static String shown(String url) {
    return url.toLowerCase(Locale.ROOT).contains("password") ? "(hidden: it holds a password)" : url;
  }

  public ShardConfig {
    pools = List.copyOf(pools);
  }

  /**
   * A Kafka pool: its shard topic {@code penumbra.shards.<id>} has one partition per worker.
   *
   * @param id its id, also its ledger node
   * @param priority the one priority whose shards it runs
   * @param workers worker processes (partitions of its topic)
   * @param cores its ledger node's CPU (what reservations on it may add up to)
   */
  public record Pool(String id, Priority priority, int workers, int cores) {}

  /** True when shards travel over Kafka. */
  public boolean kafka() {
    return transport.equals(KAFKA);
  }

  /** The keys of section {@code shard} with their defaults. */
  static Map<String, String> keys() {
    Map<String, String> k = new LinkedHashMap<>();
    k.put("transport", IN_PROCESS);
    k.put("bootstrap", "");
    k.put("pools", "");
    k.put("workers", "start");
    k.put("heartbeatTimeout", "2s");
    k.put("history", "");
    return k;
  }

  /** Reads and checks section {@code shard} from the merged {@code section.key -> value} map. */
  static ShardConfig parse(Map<String, String> v) {
    String transport = v.get("shard.transport").strip();
    if (!transport.equals(IN_PROCESS) && !transport.equals(KAFKA)) {
      throw new ConfigException("shard.transport", transport, "must be in-process or kafka");
    }
    String bootstrap = v.get("shard.bootstrap").strip();
    String poolsText = v.get("shard.pools").strip();
    String workers = v.get("shard.workers").strip();
    if (!workers.equals("start") && !workers.equals("external")) {
      throw new ConfigException("shard.workers", workers, "must be start (the server runs each pool's workers) or "
          + "external (they run already)");
    }
    String hbText = v.get("shard.heartbeatTimeout").strip();
    Duration hb;
    try {
      hb = ServerConfig.parseDuration(hbText);
    } catch (IllegalArgumentException | DateTimeParseException e) {
      throw new ConfigException("shard.heartbeatTimeout", hbText, "not a duration such as 500ms, 2s");
    }
    if (hb.compareTo(Duration.ofMillis(500)) < 0 || hb.compareTo(Duration.ofMinutes(5)) > 0) {
      throw new ConfigException("shard.heartbeatTimeout", hbText, "must be in [500ms, 5m] (workers beat every 200ms)");
    }
    String history = v.get("shard.history").strip();
    if (!history.isEmpty() && !history.startsWith("jdbc:duckdb:") && !history.startsWith("jdbc:postgresql:")) {
      throw new ConfigException("shard.history", shown(history), "must be a jdbc:duckdb: or jdbc:postgresql: URL "
          + "(blank: in memory)");
    }
    if (!transport.equals(KAFKA)) {
      if (!bootstrap.isEmpty()) {
        throw new ConfigException("shard.bootstrap", bootstrap, "is for shard.transport = kafka (it is " + transport
            + ")");
      }
      if (!poolsText.isEmpty()) {
        throw new ConfigException("shard.pools", poolsText, "are for shard.transport = kafka (it is " + transport
            + ")");
      }
      return new ShardConfig(transport, "", List.of(), workers.equals("start"), hb, history);
    }
    if (bootstrap.isEmpty()) {
      throw new ConfigException("shard.bootstrap", bootstrap, "must be set with shard.transport = kafka (host:port,...)");
    }
    for (String server : bootstrap.split(",")) {
      String s = server.strip();
      int colon = s.lastIndexOf(':');
      String host = colon < 0 ? s : s.substring(0, colon);
      String port = colon < 0 ? "" : s.substring(colon + 1);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      if (!port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
        throw new ConfigException("shard.bootstrap", bootstrap, "'" + s + "' must be host:port with a port in "
            + "[1, 65535]");
      }
      if (!Edge.isLoopback(host)) {
        throw new ConfigException("shard.bootstrap", bootstrap, "'" + host + "' is not a loopback address (Kafka is "
            + "reached on this machine only: 127.0.0.1, ::1 or localhost)");
      }
    }
    if (poolsText.isEmpty()) {
      throw new ConfigException("shard.pools", poolsText, "must name at least one pool with shard.transport = kafka "
          + "(id:priority:workers:cores,... e.g. gold:critical:2:4,bulk:batch:1:2)");
    }
    List<Pool> pools = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    int n = 0;
    for (String entry : poolsText.split(",")) {
      n++;
      String e = entry.strip();
      String[] p = e.split(":", -1);
      String where = "pool " + n + " '" + e + "'";
      if (p.length != 4) {
        throw new ConfigException("shard.pools", poolsText, where + " must be id:priority:workers:cores");
      }
      String id = p[0].strip();
      if (!id.matches("[A-Za-z0-9._-]{1,64}")) {
        throw new ConfigException("shard.pools", poolsText, where + ": id must be 1-64 of [A-Za-z0-9._-], was '"
            + id + "'");
      }
      if (!ids.add(id)) {
        throw new ConfigException("shard.pools", poolsText, where + ": id '" + id + "' is listed twice");
      }
      if (id.equals(v.get("ledger.node").strip())) {
        throw new ConfigException("shard.pools", poolsText, where + ": id '" + id + "' is this machine's ledger node "
            + "(ledger.node); a pool is a node of its own");
      }
      Priority priority;
      try {
        priority = Priority.parse(p[1].strip().toLowerCase(Locale.ROOT));
      } catch (IllegalArgumentException bad) {
        throw new ConfigException("shard.pools", poolsText, where + ": priority must be critical, standard or batch,"
            + " was '" + p[1].strip() + "'");
      }
      int w = integer(poolsText, where, "workers", p[2], 1, 256);
      int cores = integer(poolsText, where, "cores", p[3], 1, 4096);
      pools.add(new Pool(id, priority, w, cores));
    }
    return new ShardConfig(transport, bootstrap, pools, workers.equals("start"), hb, history);
  }

  private static int integer(String all, String where, String what, String text, int min, int max) {
    int n;
    try {
      n = Integer.parseInt(text.strip());
    } catch (NumberFormatException e) {
      throw new ConfigException("shard.pools", all, where + ": " + what + " must be an integer, was '" + text.strip()
          + "'");
    }
    if (n < min || n > max) {
      throw new ConfigException("shard.pools", all, where + ": " + what + " must be in [" + min + ", " + max
          + "], was " + n);
    }
    return n;
  }
}
