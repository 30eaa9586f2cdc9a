package dev.penumbra.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.penumbra.core.Resources;
import dev.penumbra.failover.pg.PgBinaries;
import dev.penumbra.failover.pg.PortRange;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The server's configuration, validated: one YAML file (every key optional) overridden by environment
 * variables {@code PENUMBRA_<SECTION>_<KEY>} (camelCase keys in UPPER_SNAKE, e.g. {@code PENUMBRA_SERVER_PORT},
 * {@code PENUMBRA_QUERY_SCALE}). An unknown key or a bad value throws {@link ConfigException} naming both.
 *
 * <p>About 700 lines: one record per section and every key's default and check, kept together so that what a
 * file may say is in one place.
 *
 * @param server where and how the HTTP server listens
 * @param ledger the one ledger node this machine offers
 * @param query the query capability
 * @param stream the stream capability
 * @param task the task capability
 * @param demo the built-in workload of {@code penumbra demo}
 * @param auth who may call the API (docs/server.md, "Security model"); none configured: open, loopback only
 * @param cluster this node's place in the replicated ledger's group ({@code penumbra serve --cluster}); off by default
 * @param failover the shadow-node capability ({@code /v1/failover/nodes})
 * @param shard where the shard capability ({@code /v1/requests}) runs shards: in-process or Kafka pools
 */
public record ServerConfig(
    Http server, Node ledger, Query query, Stream stream, Task task, Demo demo, Auth auth, Cluster cluster,
    Failover failover, ShardConfig shard) {

  /** A configuration whose shards run in-process. */
  public ServerConfig(Http server, Node ledger, Query query, Stream stream, Task task, Demo demo, Auth auth,
      Cluster cluster, Failover failover) {
    this(server, ledger, query, stream, task, demo, auth, cluster, failover, ShardConfig.DEFAULT);
  }

  /** A configuration without authentication (loopback binds only), cluster or shadow-node capability. */
  public ServerConfig(Http server, Node ledger, Query query, Stream stream, Task task, Demo demo) {
    this(server, ledger, query, stream, task, demo, Auth.NONE, Cluster.NONE, Failover.OFF);
  }

  /** A configuration whose ledger is this process's own (no cluster), without the shadow-node capability. */
  public ServerConfig(Http server, Node ledger, Query query, Stream stream, Task task, Demo demo, Auth auth) {
    this(server, ledger, query, stream, task, demo, auth, Cluster.NONE, Failover.OFF);
  }

  /**
   * A caller the server knows by its bearer token.
   *
   * @param name the principal: owner of the reservations it makes, user of its queries
   * @param maxPriority the highest priority it may ask for
   * @param admin whether it may release anyone's reservation
   */
  public record Principal(String name, dev.penumbra.core.Priority maxPriority, boolean admin) {}

  /**
   * The tokens the server accepts ({@code auth.tokens}: comma-separated {@code name:level:token}, level one of
   * batch, standard, critical, admin; tokens at least 16 characters). Empty: no authentication. The tokens are
   * secrets: neither {@link #toString()} nor any error message shows them.
   */
  public record Auth(Map<String, Principal> byToken, Map<String, Quota> quotas) {
    public static final Auth NONE = new Auth(Map.of());

    public Auth {
      byToken = Map.copyOf(byToken);
      quotas = Map.copyOf(quotas);
    }

    public Auth(Map<String, Principal> byToken) {
      this(byToken, Map.of());
    }

    /** The quota of a principal, if one is configured. */
    public Optional<Quota> quota(String principal) {
      return Optional.ofNullable(quotas.get(principal));
    }

    /** This configuration with the quotas of {@code text} ({@code auth.quotas}). */
    Auth withQuotas(String text) {
      Map<String, Quota> q = Quota.parse(text, byToken.values().stream().map(Principal::name)
          .collect(java.util.stream.Collectors.toSet()));
      return new Auth(byToken, q);
    }

    public boolean enabled() {
      return !byToken.isEmpty();
    }

    @Override
    public String toString() {
      return "Auth" + byToken.values().stream().map(Principal::name).sorted().toList();
    }

    static Auth parse(String text) {
      Map<String, Principal> m = new LinkedHashMap<>();
      java.util.Set<String> names = new java.util.HashSet<>();
      if (text == null || text.isBlank()) {
        return NONE;
      }
      int n = 0;
      for (String entry : text.split(",")) {
        n++;
        String[] parts = entry.strip().split(":", 3);
        String where = "entry " + n;
        if (parts.length != 3) {
          throw new ConfigException("auth.tokens", "(hidden)", where + " must be name:level:token");
        }
        String name = parts[0].strip();
        String level = parts[1].strip().toLowerCase(Locale.ROOT);
        String token = parts[2].strip();
        if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
          throw new ConfigException("auth.tokens", "(hidden)", where + ": name must be 1-64 of [A-Za-z0-9._-], was '"
              + name + "'");
        }
        if (!names.add(name)) {
          throw new ConfigException("auth.tokens", "(hidden)", where + ": name '" + name + "' is listed twice");
        }
        if (token.length() < 16) {
          throw new ConfigException("auth.tokens", "(hidden)", where + " (" + name
              + "): token must be at least 16 characters");
        }
        Principal p = switch (level) {
          case "admin" -> new Principal(name, dev.penumbra.core.Priority.CRITICAL, true);
          case "critical", "standard", "batch" -> new Principal(name, dev.penumbra.core.Priority.parse(level), false);
          default -> throw new ConfigException("auth.tokens", "(hidden)", where + " (" + name
              + "): level must be batch, standard, critical or admin, was '" + level + "'");
        };
        if (m.put(token, p) != null) {
          throw new ConfigException("auth.tokens", "(hidden)", where + " (" + name + "): token is used twice");
        }
      }
      return new Auth(m);
    }
  }

  /**
   * What one principal may hold at once (docs/server.md, "Quotas"); beyond it new work is refused with 429.
   *
   * @param cpuMillis CPU its live reservations may add up to (Long.MAX_VALUE: no cap)
   * @param memoryBytes memory likewise
   * @param inFlight its requests that admit work (POST) running at once (Integer.MAX_VALUE: no cap)
   */
  public record Quota(long cpuMillis, long memoryBytes, int inFlight) {
    public static final Quota NONE = new Quota(Long.MAX_VALUE, Long.MAX_VALUE, Integer.MAX_VALUE);

    /**
     * Parses {@code auth.quotas}: comma-separated {@code name:key=value[:key=value...]}, keys {@code cpu} (500m,
     * 2), {@code memory} (512MiB) and {@code inFlight} (an integer >= 1), e.g. {@code ana:cpu=2:inFlight=4}.
     */
    static Map<String, Quota> parse(String text, java.util.Set<String> principals) {
      Map<String, Quota> m = new LinkedHashMap<>();
      if (text == null || text.isBlank()) {
        return m;
      }
      for (String entry : text.split(",")) {
        String[] parts = entry.strip().split(":");
        String name = parts[0].strip();
        if (!principals.contains(name)) {
          throw new ConfigException("auth.quotas", entry.strip(), "principal '" + name
              + "' is not one of auth.tokens " + new java.util.TreeSet<>(principals));
        }
        if (parts.length < 2) {
          throw new ConfigException("auth.quotas", entry.strip(), "must be name:key=value[:key=value...]");
        }
        long cpu = Long.MAX_VALUE;
        long mem = Long.MAX_VALUE;
        int inFlight = Integer.MAX_VALUE;
        for (int i = 1; i < parts.length; i++) {
          String[] kv = parts[i].strip().split("=", 2);
          String key = kv[0].strip();
          String value = kv.length == 2 ? kv[1].strip() : "";
          try {
            switch (key) {
              case "cpu" -> cpu = Resources.parseCpuMillis(value);
              case "memory" -> mem = Resources.parseBytes(value);
              case "inFlight" -> {
                inFlight = Integer.parseInt(value);
                if (inFlight < 1) {
                  throw new IllegalArgumentException("must be >= 1");
                }
              }
              default -> throw new ConfigException("auth.quotas", entry.strip(), "unknown quota '" + key
                  + "' (one of cpu, memory, inFlight)");
            }
          } catch (ConfigException e) {
            throw e;
          } catch (RuntimeException e) {
            throw new ConfigException("auth.quotas", entry.strip(), "quota " + key + " = '" + value
                + "' is not valid (cpu: 500m or 2, memory: 512MiB, inFlight: an integer >= 1)");
          }
        }
        if (m.put(name, new Quota(cpu, mem, inFlight)) != null) {
          throw new ConfigException("auth.quotas", entry.strip(), "principal '" + name + "' is listed twice");
        }
      }
      return m;
    }
  }

  /**
   * @param host interface to bind (default 127.0.0.1)
   * @param port TCP port, 0 picks a free one (default 8080)
   * @param maxBodyBytes larger request bodies get 413 (default 64 KiB)
   * @param shutdownGrace how long a stop waits for running work before releasing it (default 30 s)
   * @param dataDir where state that outlives the process is kept ("" = nowhere: ids restart at 1)
   * @param headerTimeout a request's headers must be complete this long after its first byte (default 10 s)
   * @param bodyTimeout a request's body must be complete this long after its headers (default 30 s)
   */
  public record Http(String host, int port, long maxBodyBytes, Duration shutdownGrace, String dataDir,
      Duration headerTimeout, Duration bodyTimeout) {
    public Http(String host, int port, long maxBodyBytes, Duration shutdownGrace) {
      this(host, port, maxBodyBytes, shutdownGrace, "");
    }

    public Http(String host, int port, long maxBodyBytes, Duration shutdownGrace, String dataDir) {
      this(host, port, maxBodyBytes, shutdownGrace, dataDir, DEFAULT_HEADER_TIMEOUT, DEFAULT_BODY_TIMEOUT);
    }

    static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(10);
    static final Duration DEFAULT_BODY_TIMEOUT = Duration.ofSeconds(30);

    /** The data directory, when one is configured. */
    public java.util.Optional<java.nio.file.Path> dataDirPath() {
      return dataDir.isBlank() ? java.util.Optional.empty() : java.util.Optional.of(java.nio.file.Path.of(dataDir));
    }
  }

  /**
   * @param node the node's id (default "local")
   * @param cores CPU cores offered; 0 means this machine's {@code Runtime.availableProcessors()} (default 0)
   * @param memory memory budget the ledger may reserve (default 1 GiB)
   */
  public record Node(String node, int cores, long memory) {
    /** The node's capacity. */
    public Resources capacity() {
      int c = cores == 0 ? Runtime.getRuntime().availableProcessors() : cores;
      return Resources.of(c * 1000L, memory);
    }
  }

  /**
   * @param enabled whether the query capability runs (default true)
   * @param scale TPC-H scale factor of the embedded database (default 0.1)
   * @param cacheDir where the database is kept; empty means ~/.cache/penumbra
   * @param engineInstances DuckDB engines, i.e. queries running at once (default 4)
   * @param maxRows rows returned per query (default 100)
   * @param timeout per attempt (default 2 min)
   * @param maxQueued queries admitted but not finished before 503 (default 64)
   */
  public record Query(boolean enabled, double scale, String cacheDir, int engineInstances, int maxRows,
      Duration timeout, int maxQueued) {
    /** The cache directory, when one is configured. */
    public Optional<Path> cacheDirPath() {
      return cacheDir.isBlank() ? Optional.empty() : Optional.of(Path.of(cacheDir));
    }
  }

  /**
   * @param enabled whether the stream capability runs (default true)
   * @param interval the planner's step: each stream is observed, planned and reserved once per interval
   *     (default 1 s)
   * @param maxStreams streams that may exist at once (default 16)
   */
  public record Stream(boolean enabled, Duration interval, int maxStreams) {}

  /**
   * @param enabled whether the task capability runs (default true)
   * @param maxRunning tasks admitted and not finished before 503 (default 16)
   */
  public record Task(boolean enabled, int maxRunning) {}

  /**
   * @param clients concurrent workload clients per capability (default 2)
   * @param pause pause between one client's submissions (default 200 ms)
   * @param seed the workload's random seed (default 7)
   */
  public record Demo(int clients, Duration pause, long seed) {}

  /**
   * The shadow-node capability (docs/failover.md, "In the server").
   *
   * @param enabled whether it runs (default true)
   * @param data folder of daily Backblaze SMART files whose later days are replayed as simulated nodes' telemetry
   *     (default ../shared/data/backblaze-2013; absent: no simulated nodes, nodes registered over HTTP only)
   * @param nodes simulated nodes (default 6)
   * @param dayEvery wall time per replayed day of telemetry (default 2 s)
   * @param thresholds {@code calibrated} (act at the risks below) or {@code alarm-rate} (provision for the riskiest
   *     1% of the training days' drive-days, promote for 0.1%; the default, since the model of this data never
   *     reaches 0.7)
   * @param decommission calibrated risk below which a standby goes (default 0.5)
   * @param provision calibrated risk at which a standby is provisioned (default 0.7)
   * @param promote calibrated risk at which the work moves to the standby (default 0.9)
   * @param budget standbys at once (default 2)
   * @param driver what a node is: {@code bookkeeping} (telemetry only, no server runs; the default, and the demo's)
   *     or {@code postgres} (a real PostgreSQL primary the server starts on 127.0.0.1, with a synchronous standby,
   *     promotion, fencing and an archive; its directories under {@code server.dataDir}/failover-postgres)
   * @param postgresBin PostgreSQL's server binaries for the postgres driver (blank: the newest of
   *     /usr/lib/postgresql/N/bin)
   * @param postgresPorts the ports the postgres driver's servers listen on ({@link PortRange#ANY}: any free port)
   */
  public record Failover(boolean enabled, String data, int nodes, Duration dayEvery, String thresholds,
      double decommission, double provision, double promote, int budget, String driver, String postgresBin,
      PortRange postgresPorts) {
    static final Failover OFF = new Failover(false, "", 0, Duration.ofSeconds(2), "calibrated", 0.5, 0.7, 0.9, 0,
        "bookkeeping", "", PortRange.ANY);

    /** Whether the nodes are real PostgreSQL servers. */
    public boolean postgres() {
      return driver.equals("postgres");
    }

    /** The data folder, when one is configured. */
    public Optional<Path> dataPath() {
      return data.isBlank() ? Optional.empty() : Optional.of(Path.of(data));
    }
  }

  /** The embedded defaults (no file, no environment). */
  public static ServerConfig defaults() {
    return parse(MAPPER.createObjectNode(), Map.of());
  }

  /** Reads a YAML file (or only the defaults when {@code file} is null) with overrides from {@code env}. */
  public static ServerConfig load(Path file, Map<String, String> env) {
    ObjectNode root;
    if (file == null) {
      root = MAPPER.createObjectNode();
    } else {
      try {
        JsonNode n = MAPPER.readTree(Files.readString(file));
        if (n == null || n.isMissingNode() || n.isNull()) {
          root = MAPPER.createObjectNode();
        } else if (n instanceof ObjectNode o) {
          root = o;
        } else {
          throw new ConfigException("(root)", n.toString(), "must be a mapping of sections");
        }
      } catch (IOException e) {
        throw new ConfigException("(file)", file.toString(), "cannot be read as YAML: "
            + e.getMessage().lines().findFirst().orElse(""));
      }
    }
    return parse(root, env);
  }

  // A key written twice is a mistake whichever value was meant: refused, not last-wins.
  private static final ObjectMapper MAPPER = new ObjectMapper(new YAMLFactory())
      .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  /** Section -> key -> default value (as YAML text), the single list of what a file may say. */
  static final Map<String, Map<String, String>> KEYS = keys();

  private static Map<String, Map<String, String>> keys() {
    Map<String, Map<String, String>> k = new LinkedHashMap<>();
    k.put("server", ordered("host", "127.0.0.1", "port", "8080", "maxBodyBytes", "65536", "shutdownGrace", "30s",
        "dataDir", "", "headerTimeout", "10s", "bodyTimeout", "30s"));
    k.put("ledger", ordered("node", "local", "cores", "0", "memory", "1GiB"));
    k.put("query", ordered("enabled", "true", "scale", "0.1", "cacheDir", "", "engineInstances", "4",
        "maxRows", "100", "timeout", "2m", "maxQueued", "64"));
    k.put("stream", ordered("enabled", "true", "interval", "1s", "maxStreams", "16"));
    k.put("task", ordered("enabled", "true", "maxRunning", "16"));
    k.put("demo", ordered("clients", "2", "pause", "200ms", "seed", "7"));
    k.put("auth", ordered("tokens", "", "quotas", ""));
    k.put("cluster", ordered("self", "", "peers", "", "dataDir", "", "electionTimeout", "100ms", "fsync", "true",
        "awaitLeader", "60s"));
    k.put("failover", ordered("enabled", "true", "data", "../shared/data/backblaze-2013", "nodes", "6",
        "dayEvery", "2s", "thresholds", "alarm-rate", "decommission", "0.5", "provision", "0.7", "promote", "0.9",
        "budget", "2", "driver", "bookkeeping", "postgresBin", "", "postgresPorts", ""));
    k.put("shard", ShardConfig.keys());
    return k;
  }

  private static Map<String, String> ordered(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  /**
   * Refuses a {@code PENUMBRA_<SECTION>_*} variable that overrides no key (e.g. {@code PENUMBRA_LEDGER_MEMRY}):
   * silently ignoring it would run with a value the operator believes changed.
   */
  static void checkEnvironment(Map<String, String> env) {
    java.util.Set<String> known = new java.util.TreeSet<>();
    KEYS.forEach((section, keys) -> keys.keySet().forEach(k -> known.add(envName(section, k))));
    for (String name : new java.util.TreeSet<>(env.keySet())) {
      for (String section : KEYS.keySet()) {
        String prefix = "PENUMBRA_" + section.toUpperCase(Locale.ROOT) + "_";
        if (name.startsWith(prefix) && !known.contains(name)) {
          List<String> same = known.stream().filter(n -> n.startsWith(prefix)).toList();
          throw new ConfigException(name, env.get(name).length() > 40 ? "(set)" : env.get(name),
              "unknown environment override (known for " + section + ": " + same + ")");
        }
      }
    }
  }

  private static long physicalMemory() {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getTotalMemorySize();
    }
    return Long.MAX_VALUE;
  }

  /** The environment variable overriding {@code section.key}. */
  static String envName(String section, String key) {
    return "PENUMBRA_" + section.toUpperCase(Locale.ROOT) + "_" + key.replaceAll("([a-z])([A-Z])", "$1_$2")
        .toUpperCase(Locale.ROOT);
  }

  private static ServerConfig parse(ObjectNode root, Map<String, String> env) {
    Map<String, String> v = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> s = it.next();
      Map<String, String> known = KEYS.get(s.getKey());
      if (known == null) {
        throw new ConfigException(s.getKey(), s.getValue().toString(), "unknown section (one of " + KEYS.keySet() + ")");
      }
      if (!s.getValue().isObject()) {
        throw new ConfigException(s.getKey(), s.getValue().toString(), "must be a mapping");
      }
      for (Iterator<Map.Entry<String, JsonNode>> f = s.getValue().fields(); f.hasNext(); ) {
        Map.Entry<String, JsonNode> e = f.next();
        String key = s.getKey() + "." + e.getKey();
        if (!known.containsKey(e.getKey())) {
          throw new ConfigException(key, e.getValue().toString(), "unknown key (one of " + known.keySet() + ")");
        }
        if (e.getValue().isContainerNode()) {
          throw new ConfigException(key, e.getValue().toString(), "must be a single value");
        }
        v.put(key, e.getValue().isNull() ? "" : e.getValue().asText());
      }
    }
    checkEnvironment(env);
    for (var s : KEYS.entrySet()) {
      for (var k : s.getValue().entrySet()) {
        String key = s.getKey() + "." + k.getKey();
        String fromEnv = env.get(envName(s.getKey(), k.getKey()));
        if (fromEnv != null) {
          v.put(key, fromEnv);
        } else {
          v.putIfAbsent(key, k.getValue());
        }
      }
    }
    Values r = new Values(v);
    Http http = new Http(r.text("server.host", false), (int) r.integer("server.port", 0, 65535),
        r.integer("server.maxBodyBytes", 256, 64 << 20), r.duration("server.shutdownGrace", Duration.ZERO),
        r.text("server.dataDir", true), r.duration("server.headerTimeout", Duration.ofMillis(100)),
        r.duration("server.bodyTimeout", Duration.ofMillis(100)));
    long memory = r.bytes("ledger.memory");
    if (memory < (16L << 20)) {
      throw new ConfigException("ledger.memory", v.get("ledger.memory"), "must be at least 16MiB");
    }
    long physical = physicalMemory();
    if (memory > physical) {
      // The ledger promises this memory to work run on this machine: more than it has is a typo, not a plan.
      throw new ConfigException("ledger.memory", v.get("ledger.memory"), "must be at most this machine's memory ("
          + (physical >> 20) + "MiB)");
    }
    Node node = new Node(r.text("ledger.node", false), (int) r.integer("ledger.cores", 0, 4096), memory);
    double scale = r.number("query.scale");
    if (!(scale > 0) || scale > 100) {
      throw new ConfigException("query.scale", v.get("query.scale"), "must be > 0 and <= 100");
    }
    Query query = new Query(r.bool("query.enabled"), scale, r.text("query.cacheDir", true),
        (int) r.integer("query.engineInstances", 1, 256), (int) r.integer("query.maxRows", 0, 100_000),
        r.duration("query.timeout", Duration.ofMillis(1)), (int) r.integer("query.maxQueued", 1, 100_000));
    Duration interval = r.duration("stream.interval", Duration.ofMillis(10));
    if (interval.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new ConfigException("stream.interval", v.get("stream.interval"), "must be at most 1m");
    }
    Stream stream = new Stream(r.bool("stream.enabled"), interval, (int) r.integer("stream.maxStreams", 1, 1000));
    Task task = new Task(r.bool("task.enabled"), (int) r.integer("task.maxRunning", 1, 10_000));
    Demo demo = new Demo((int) r.integer("demo.clients", 1, 64), r.duration("demo.pause", Duration.ZERO),
        r.integer("demo.seed", Long.MIN_VALUE, Long.MAX_VALUE));
    Auth auth = Auth.parse(v.get("auth.tokens"));
    if (!v.get("auth.quotas").isBlank()) {
      if (!auth.enabled()) {
        throw new ConfigException("auth.quotas", v.get("auth.quotas"), "quotas are per principal: set auth.tokens");
      }
      auth = auth.withQuotas(v.get("auth.quotas"));
    }
    if (!auth.enabled() && !Edge.isLoopback(http.host())) {
      throw new ConfigException("server.host", http.host(), "a non-loopback address needs authentication:"
          + " set auth.tokens (or PENUMBRA_AUTH_TOKENS)");
    }
    Cluster cluster = Cluster.parse(v.get("cluster.self").strip(), v.get("cluster.peers").strip(),
        v.get("cluster.dataDir").strip(), r.duration("cluster.electionTimeout", Duration.ofMillis(50)),
        r.bool("cluster.fsync"), r.duration("cluster.awaitLeader", Duration.ofSeconds(1)));
    return new ServerConfig(http, node, query, stream, task, demo, auth, cluster, failover(r, v),
        ShardConfig.parse(v));
  }

  /**
   * The replicated ledger's group as this node sees it ({@code cluster.*}): {@code peers} is
   * {@code id=host:port,...}, this node is {@code self}, its Raft log and snapshots are in {@code dataDir/self}.
   *
   * @param replica the checked group; null when {@code cluster.peers} is blank (the ledger is this process's own)
   * @param awaitLeader how long a starting node waits for the group to elect a leader before it gives up
   */
  public record Cluster(dev.penumbra.cluster.ClusterConfig replica, Duration awaitLeader) {
    public static final Cluster NONE = new Cluster(null, Duration.ofSeconds(60));

    /** True when this node runs a replica of the replicated ledger. */
    public boolean enabled() {
      return replica != null;
    }

    static Cluster parse(String self, String peers, String dataDir, Duration electionTimeout, boolean fsync,
        Duration awaitLeader) {
      if (peers.isEmpty()) {
        if (!self.isEmpty()) {
          throw new ConfigException("cluster.self", self, "set without cluster.peers (id=host:port,...)");
        }
        return NONE;
      }
      if (self.isEmpty()) {
        throw new ConfigException("cluster.self", self, "must name this node, one of the ids in cluster.peers");
      }
      if (dataDir.isEmpty()) {
        throw new ConfigException("cluster.dataDir", dataDir, "must be set: the Raft log and snapshots are kept in "
            + "dataDir/" + self);
      }
      java.util.List<dev.penumbra.cluster.ClusterPeer> list;
      try {
        list = dev.penumbra.cluster.ClusterReplicaMain.parsePeers(peers, Path.of(dataDir));
      } catch (IllegalArgumentException e) {
        throw new ConfigException("cluster.peers", peers, e.getMessage());
      }
      try {
        return new Cluster(new dev.penumbra.cluster.ClusterConfig(self, list, electionTimeout,
            dev.penumbra.cluster.ClusterConfig.DEFAULT_SNAPSHOT_EVERY, fsync), awaitLeader);
      } catch (IllegalArgumentException e) {
        String m = e.getMessage();
        if (m.startsWith("cluster.self")) {
          throw new ConfigException("cluster.self", self, m);
        }
        if (m.startsWith("cluster.electionTimeout")) {
          throw new ConfigException("cluster.electionTimeout", electionTimeout.toMillis() + "ms", m);
        }
        throw new ConfigException("cluster.peers", peers, m);
      }
    }
  }

  private static Failover failover(Values r, Map<String, String> v) {
    String mode = r.text("failover.thresholds", false);
    if (!List.of("calibrated", "alarm-rate").contains(mode)) {
      throw new ConfigException("failover.thresholds", mode, "must be calibrated or alarm-rate");
    }
    double[] t = new double[3];
    String[] keys = {"failover.decommission", "failover.provision", "failover.promote"};
    for (int i = 0; i < 3; i++) {
      t[i] = r.number(keys[i]);
      if (!(t[i] >= 0 && t[i] <= 1)) {
        throw new ConfigException(keys[i], v.get(keys[i]), "must be a risk in [0, 1]");
      }
    }
    if (!(t[0] < t[1])) {
      throw new ConfigException("failover.decommission", v.get(keys[0]), "must be below failover.provision ("
          + v.get(keys[1]) + ")");
    }
    if (!(t[1] < t[2])) {
      throw new ConfigException("failover.provision", v.get(keys[1]), "must be below failover.promote ("
          + v.get(keys[2]) + ")");
    }
    Duration every = r.duration("failover.dayEvery", Duration.ofMillis(20));
    if (every.compareTo(Duration.ofHours(1)) > 0) {
      throw new ConfigException("failover.dayEvery", v.get("failover.dayEvery"), "must be at most 1h");
    }
    String driver = r.text("failover.driver", false);
    if (!List.of("bookkeeping", "postgres").contains(driver)) {
      throw new ConfigException("failover.driver", driver, "must be bookkeeping or postgres");
    }
    String bin = r.text("failover.postgresBin", true).strip();
    PortRange ports = ports(r.text("failover.postgresPorts", true).strip());
    boolean enabled = r.bool("failover.enabled");
    if (enabled && driver.equals("postgres")) {
      checkPostgres(bin, ports, v.get("server.dataDir").strip());
    }
    return new Failover(enabled, r.text("failover.data", true),
        (int) r.integer("failover.nodes", 0, 32), every, mode, t[0], t[1], t[2],
        (int) r.integer("failover.budget", 0, 32), driver, bin, ports);
  }

  /** {@code FIRST-LAST}, one port, or blank for any free port. */
  private static PortRange ports(String text) {
    if (text.isEmpty()) {
      return PortRange.ANY;
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,5})(?:-(\\d{1,5}))?").matcher(text);
    if (!m.matches()) {
      throw new ConfigException("failover.postgresPorts", text, "must be FIRST-LAST (e.g. 55400-55431), one port, or"
          + " blank for any free port");
    }
    int first = Integer.parseInt(m.group(1));
    int last = m.group(2) == null ? first : Integer.parseInt(m.group(2));
    try {
      return new PortRange(first, last);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("failover.postgresPorts", text, e.getMessage());
    }
  }

  /**
   * The postgres driver's needs, checked at load: a data directory to keep the servers under, the binaries, and a
   * free port (the nodes listen on 127.0.0.1 only: there is no address to configure).
   */
  private static void checkPostgres(String bin, PortRange ports, String dataDir) {
    if (dataDir.isEmpty()) {
      throw new ConfigException("failover.driver", "postgres", "needs server.dataDir: the nodes' PostgreSQL data"
          + " directories live under it");
    }
    if (bin.isEmpty()) {
      if (PgBinaries.find().isEmpty()) {
        throw new ConfigException("failover.postgresBin", "", "no PostgreSQL server binaries under"
            + " /usr/lib/postgresql/N/bin: install PostgreSQL or name the directory");
      }
    } else {
      try {
        PgBinaries.at(Path.of(bin));
      } catch (IllegalArgumentException e) {
        throw new ConfigException("failover.postgresBin", bin, e.getMessage());
      }
    }
    if (!ports.any()) {
      boolean free = false;
      for (int p = ports.first(); p <= ports.last() && !free; p++) {
        free = PortRange.free(p);
      }
      if (!free) {
        throw new ConfigException("failover.postgresPorts", ports.toString(), "every port of it is in use on"
            + " 127.0.0.1");
      }
    }
  }

  /** This configuration with another port (the command line's {@code --port}). */
  public ServerConfig withPort(int port) {
    if (port < 0 || port > 65535) {
      throw new ConfigException("server.port", Integer.toString(port), "must be in [0, 65535]");
    }
    return new ServerConfig(new Http(server.host(), port, server.maxBodyBytes(), server.shutdownGrace(),
        server.dataDir(), server.headerTimeout(), server.bodyTimeout()), ledger,
        query, stream, task, demo, auth, cluster, failover, shard);
  }

  /** An invalid configuration: the key, its value and why. */
  public static final class ConfigException extends IllegalArgumentException {
    private final String key;
    private final String value;

    ConfigException(String key, String value, String why) {
      super("invalid configuration: " + key + " = '" + value + "': " + why);
      this.key = key;
      this.value = value;
    }

    public String key() {
      return key;
    }

    public String value() {
      return value;
    }
  }

  private record Values(Map<String, String> v) {
    String text(String key, boolean blankAllowed) {
      String s = v.get(key).strip();
      if (!blankAllowed && s.isEmpty()) {
        throw new ConfigException(key, s, "must not be blank");
      }
      return s;
    }

    long integer(String key, long min, long max) {
      String s = v.get(key).strip();
      long n;
      try {
        n = Long.parseLong(s);
      } catch (NumberFormatException e) {
        throw new ConfigException(key, s, "not an integer");
      }
      if (n < min || n > max) {
        throw new ConfigException(key, s, "must be in [" + min + ", " + max + "]");
      }
      return n;
    }

    double number(String key) {
      String s = v.get(key).strip();
      try {
        return Double.parseDouble(s);
      } catch (NumberFormatException e) {
        throw new ConfigException(key, s, "not a number");
      }
    }

    boolean bool(String key) {
      String s = v.get(key).strip().toLowerCase(Locale.ROOT);
      if (!List.of("true", "false").contains(s)) {
        throw new ConfigException(key, s, "must be true or false");
      }
      return s.equals("true");
    }

    long bytes(String key) {
      String s = v.get(key).strip();
      try {
        return Resources.parseBytes(s);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(key, s, "not an amount of memory such as 512MiB or 2GiB");
      }
    }

    Duration duration(String key, Duration min) {
      String s = v.get(key).strip();
      Duration d;
      try {
        d = parseDuration(s);
      } catch (IllegalArgumentException | DateTimeParseException e) {
        throw new ConfigException(key, s, "not a duration such as 500ms, 30s, 2m");
      }
      if (d.compareTo(min) < 0) {
        throw new ConfigException(key, s, "must be at least " + min);
      }
      return d;
    }
  }

  /** Parses 500ms, 30s, 2m, 1h (or an ISO-8601 duration such as PT30S). */
  static Duration parseDuration(String s) {
    var m = java.util.regex.Pattern.compile("(\\d+)\\s*(ms|s|m|h)").matcher(s);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
    }
    return Duration.parse(s);
  }
}
