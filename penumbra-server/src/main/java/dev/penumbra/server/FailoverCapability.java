package dev.penumbra.server;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import dev.penumbra.core.allocate.Allocator;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.failover.BackblazeData;
import dev.penumbra.failover.FailoverEvent;
import dev.penumbra.failover.FailureDataset;
import dev.penumbra.failover.FailureModel;
import dev.penumbra.failover.FailurePredictionEngine;
import dev.penumbra.failover.NodeStatus;
import dev.penumbra.failover.ShadowNodeManager;
import dev.penumbra.failover.SmartRecord;
import dev.penumbra.failover.StandbyState;
import dev.penumbra.failover.Thresholds;
import dev.penumbra.failover.WorkloadOrchestrator;
import io.javalin.http.HandlerType;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shadow nodes ({@code /v1/failover/nodes}): the failure prediction engine, the shadow-node manager (standbys reserved through
 * the core control loop on the server's ledger) and the workload orchestrator. A node is, by {@code failover.driver},
 * either known by its telemetry only ({@code bookkeeping}: provisioning and promotion take no time, no server runs)
 * or a real PostgreSQL primary the server starts on 127.0.0.1 ({@code postgres}: the penumbra-failover
 * {@code PgNodeDriver}, as {@code penumbra bench failover} runs it: synchronous standby, fence, promotion, redirect
 * of the node's endpoint, replacement from the archive). In the server's simulated mode the nodes are drives of the
 * Backblaze test days, their SMART history replayed one day per {@code failover.dayEvery}; a drive's failure day
 * fails its node (its health checks fail; under the postgres driver its postmaster is killed with SIGKILL), and the
 * orchestrator detects it and moves the work. Without the data the capability serves nodes registered over HTTP only.
 * Timeline (nodes, one sample per replayed day): predicted = the sum of the nodes' risks (expected failures within
 * the horizon), reserved = standbys held, actual = nodes that failed that day, baseline = one standby per node.
 *
 * <p>About 650 lines: the routes, their JSON and the replay share one state (the setup, each node's drive and
 * failure time); the replay could move to its own class.
 */
final class FailoverCapability implements Capability, Capability.Timed {
  static final String NAME = "failover";
  private static final Logger LOG = LoggerFactory.getLogger(FailoverCapability.class);
  /** Node names the postgres driver accepts (they name data directories and replication slots). */
  private static final Pattern PG_NODE = Pattern.compile("[a-z][a-z0-9_]{0,30}");
  private static final Pattern NODE = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
  /** Nodes known at once (simulated and registered): each keeps a risk history, so registration is bounded. */
  static final int MAX_REGISTERED = 256;
  private static final int RECENT_RISKS = 60;
  /** Drives in the simulated mode's pool per node: first drives, replacements and later rounds' drives. */
  private static final int POOL_PER_NODE = 4;
  private static final Duration HEALTH_PERIOD = Duration.ofMillis(100);

  private final Ledger ledger;
  private final ServerConfig config;
  private final ServerConfig.Failover cfg;
  private final Consumer<String> progress;
  private final ErrorTracker errors = new ErrorTracker();
  private final Timeline timeline = new Timeline("standbys", "nodes", 600);
  private final FailoverNodes fleet;
  private final Map<String, String> drives = new ConcurrentHashMap<>();
  private final Map<String, Instant> failedAt = new ConcurrentHashMap<>();
  private final Map<String, Instant> registeredAt = new ConcurrentHashMap<>();
  private final List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile Setup setup;
  private volatile String mode = "starting";
  private volatile String message = "preparing";
  private volatile LocalDate day;
  private volatile int round;
  private volatile boolean closed;
  private final LoopView view;

  /** What start() builds: the engine, the manager and the orchestrator, and how the thresholds were chosen. */
  private record Setup(FailurePredictionEngine engine, ShadowNodeManager manager, WorkloadOrchestrator orchestrator,
      String thresholdsSource, String modelName, int horizonDays) {}

  FailoverCapability(Ledger ledger, ServerConfig config, Consumer<String> progress) {
    this.ledger = ledger;
    this.config = config;
    this.cfg = config.failover();
    this.progress = progress;
    this.fleet = new FailoverNodes(config, progress);
    this.view = LoopView.of(NAME, timeline).ready(() -> !closed).inFlight(this::moving).errors(errors)
        .shadowOverhead(this::standbyShare).build();
  }

  /** The body of {@code POST /v1/failover/nodes}. */
  record NodeBody(String name) {}

  /** The body of {@code POST /v1/failover/nodes/{node}/promote}: an empty object (room for options). */
  record PromoteBody() {}

  /** The body of {@code POST /v1/failover/nodes/{node}/risk}. */
  record RiskBody(Double risk) {}

  /** Ready always: until its nodes exist the capability answers with its mode, and without data it stays manual. */
  @Override
  public LoopView view() {
    return view;
  }

  @Override
  public void start() {
    // Training on the Backblaze days takes tens of seconds: the server (and the demo) must not wait for it.
    threads.add(Thread.ofPlatform().daemon().name("failover-setup").start(this::setUp));
  }

  private void setUp() {
    try {
      fleet.start();
      Path data = cfg.dataPath().orElse(null);
      if (data == null || !Files.isDirectory(data) || cfg.nodes() == 0) {
        String why = data == null ? "failover.data is not set"
            : !Files.isDirectory(data) ? "no Backblaze data at " + data.toAbsolutePath().normalize()
            : "failover.nodes is 0";
        message = why + ": no simulated nodes; nodes registered with POST /v1/failover/nodes only";
        progress.accept("failover: " + message);
        build(calibrated(), "calibrated", "none", 0, null);
        mode = "manual";
        return;
      }
      mode = "training";
      message = "reading " + data + " and training the risk model";
      progress.accept("failover: " + message + " (the panel fills in when done)");
      simulate(data);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
        return;
      }
      LOG.error("failover setup failed", e);
      message = "setup failed: " + e.getMessage();
      mode = "failed";
    }
  }

  private Thresholds calibrated() {
    return new Thresholds(cfg.decommission(), cfg.provision(), cfg.promote());
  }

  private void build(Thresholds t, String source, String model, int horizon, FailurePredictionEngine engine) {
    Allocator allocator = Allocator.builder(ledger).lease(Duration.ofDays(1)).build();
    ShadowNodeManager manager = ShadowNodeManager.builder(fleet.driver(), allocator, ledger).thresholds(t)
        .budget(cfg.budget()).hold(cfg.dayEvery()).standbyAmount(fleet.standbyAmount()).build();
    WorkloadOrchestrator orchestrator = new WorkloadOrchestrator(manager, 2);
    setup = new Setup(engine, manager, orchestrator, source, model, horizon);
    threads.add(Thread.ofPlatform().daemon().name("failover-health").start(() -> {
      while (!closed) {
        try {
          orchestrator.checkHealth();
          view.changed(); // a round may have ended a move
          // A period, not a wait for a condition: health is probed on a fixed beat.
          Thread.sleep(HEALTH_PERIOD);
        } catch (InterruptedException e) {
          return;
        } catch (RuntimeException e) {
          LOG.warn("health check round failed: {}", e.toString());
        }
      }
    }));
  }

  /** Trains on the earlier 60% of the days, replays drives of the later 40% as nodes. */
  private void simulate(Path data) throws Exception {
    List<Path> files = BackblazeData.dailyFiles(data);
    int cut = (int) Math.round(files.size() * 0.6);
    if (cut < 2 || cut >= files.size()) {
      throw new IllegalArgumentException("failover.data " + data + " holds " + files.size()
          + " daily files; at least 4 are needed (60% train, 40% replay)");
    }
    List<SmartRecord> train = new ArrayList<>();
    for (Path f : files.subList(0, cut)) {
      train.addAll(BackblazeData.readFile(f));
    }
    List<SmartRecord> test = new ArrayList<>();
    for (Path f : files.subList(cut, files.size())) {
      test.addAll(BackblazeData.readFile(f));
    }
    int horizon = 3;
    FailureDataset trainSet = FailureDataset.of(train, List.of(), horizon);
    FailureModel model = FailureModel.train(trainSet, FailureModel.Options.defaults());
    Thresholds t = cfg.thresholds().equals("alarm-rate")
        ? Thresholds.atAlarmRates(trainSet, model) : calibrated();
    FailurePredictionEngine engine = new FailurePredictionEngine(model);
    // A pool of drives: the first ones are the nodes' first drives; the rest replace a node's hardware after a move
    // and give each later round of the replay other drives.
    Map<String, List<SmartRecord>> pool = chooseDrives(test, cfg.nodes() * POOL_PER_NODE,
        new Random(config.demo().seed()));
    Map<String, List<SmartRecord>> chosen = new LinkedHashMap<>();
    for (Map.Entry<String, List<SmartRecord>> e : pool.entrySet()) {
      if (chosen.size() < cfg.nodes()) {
        chosen.put(e.getKey(), e.getValue());
      }
    }
    Map<String, List<SmartRecord>> prior = new HashMap<>();
    for (SmartRecord r : train) {
      if (pool.containsKey(r.serial())) {
        prior.computeIfAbsent(r.serial(), k -> new ArrayList<>()).add(r);
      }
    }
    train = null;
    build(t, cfg.thresholds(), model.name(), horizon, engine);
    Map<String, String> nodeToSerial = new LinkedHashMap<>();
    int i = 0;
    for (String serial : chosen.keySet()) {
      String node = "node" + (++i);
      fleet.add(node);
      setup.manager().register(node);
      registeredAt.put(node, Instant.now());
      drives.put(node, serial);
      nodeToSerial.put(node, serial);
    }
    TreeSet<LocalDate> days = new TreeSet<>();
    test.forEach(r -> days.add(r.date()));
    message = "replaying " + chosen.size() + " drives of " + days.first() + ".." + days.last() + ", one day per "
        + cfg.dayEvery().toMillis() + " ms; thresholds " + t + " (" + cfg.thresholds() + ")";
    progress.accept("failover: " + message);
    mode = "simulated";
    threads.add(Thread.ofPlatform().daemon().name("failover-replay").start(() -> replay(nodeToSerial, pool, prior,
        new ArrayList<>(days), horizon)));
  }

  /**
   * Half failing drives (those present from the first replayed day), half healthy ones, seeded: each case of the
   * manager's (a failure predicted, one nobody predicted, quiet nodes) shows within a short run.
   */
  static Map<String, List<SmartRecord>> chooseDrives(List<SmartRecord> test, int n, Random random) {
    Map<String, List<SmartRecord>> bySerial = new HashMap<>();
    LocalDate first = test.stream().map(SmartRecord::date).min(Comparator.naturalOrder()).orElseThrow();
    for (SmartRecord r : test) {
      bySerial.computeIfAbsent(r.serial(), k -> new ArrayList<>()).add(r);
    }
    List<String> failing = new ArrayList<>();
    List<String> healthy = new ArrayList<>();
    for (Map.Entry<String, List<SmartRecord>> e : bySerial.entrySet()) {
      e.getValue().sort(Comparator.comparing(SmartRecord::date));
      if (!e.getValue().get(0).date().equals(first)) {
        continue;
      }
      (e.getValue().get(e.getValue().size() - 1).failed() ? failing : healthy).add(e.getKey());
    }
    failing.sort(Comparator.naturalOrder());
    healthy.sort(Comparator.naturalOrder());
    java.util.Collections.shuffle(failing, random);
    java.util.Collections.shuffle(healthy, random);
    Map<String, List<SmartRecord>> out = new LinkedHashMap<>();
    int f = 0;
    int h = 0;
    for (int i = 0; i < n; i++) {
      String serial = i % 2 == 0 && f < failing.size() ? failing.get(f++)
          : h < healthy.size() ? healthy.get(h++) : null;
      if (serial != null) {
        out.put(serial, bySerial.get(serial));
      }
    }
    return out;
  }

  /**
   * Replays the pool's drives as the nodes' telemetry, round after round. A node whose work moved runs on new
   * hardware: it gets the next healthy drive of the pool from that day on (its risk history starts over), instead of
   * going on with the failing drive it left. Each later round gives every node the next drives of the pool, so the
   * same drives do not fail again round after round.
   */
  private void replay(Map<String, String> nodes, Map<String, List<SmartRecord>> pool,
      Map<String, List<SmartRecord>> prior, List<LocalDate> days, int horizon) {
    Setup s = setup;
    Map<String, List<double[]>> pending = new HashMap<>();
    List<String> serials = List.copyOf(pool.keySet());
    List<String> healthySerials = serials.stream()
        .filter(x -> !pool.get(x).get(pool.get(x).size() - 1).failed()).toList();
    int nextSerial = nodes.size();
    int nextHealthy = 0;
    try {
      while (!closed) {
        round++;
        Map<String, Integer> movesBefore = new HashMap<>();
        for (String node : List.copyOf(nodes.keySet())) {
          if (round > 1) {
            String serial = serials.get(nextSerial++ % serials.size());
            nodes.put(node, serial);
            drives.put(node, serial);
          }
          movesBefore.put(node, s.manager().status(node).moves());
          startTelemetry(s, node, prior.getOrDefault(nodes.get(node), List.of()));
          pending.put(node, new ArrayList<>());
        }
        for (int d = 0; d < days.size() && !closed; d++) {
          LocalDate today = days.get(d);
          day = today;
          double expected = 0;
          int failing = 0;
          for (String node : List.copyOf(nodes.keySet())) {
            int moves = s.manager().status(node).moves();
            if (moves > movesBefore.get(node)) {
              // Node replacement: the work moved to other hardware; its telemetry is now a healthy drive's (one no
              // other node replays), whose days before today are its known past.
              String serial = null;
              for (int k = 0; k < healthySerials.size() && serial == null; k++) {
                String candidate = healthySerials.get(nextHealthy++ % healthySerials.size());
                if (!nodes.containsValue(candidate)) {
                  serial = candidate;
                }
              }
              if (serial == null) {
                continue;
              }
              nodes.put(node, serial);
              drives.put(node, serial);
              movesBefore.put(node, moves);
              startTelemetry(s, node, pool.get(serial).stream().filter(x -> x.date().isBefore(today)).toList());
              pending.put(node, new ArrayList<>());
            }
            SmartRecord r = pool.get(nodes.get(node)).stream().filter(x -> x.date().equals(today)).findFirst()
                .orElse(null);
            if (r == null) {
              continue;
            }
            double p = s.engine().observe(node, r);
            s.manager().observe(node, p);
            expected += p;
            score(s, pending.get(node), d, p, r.failed(), horizon);
            if (r.failed()) {
              failedAt.put(node, Instant.now());
              fleet.fail(node);
              failing++;
            }
          }
          timeline.add(new Timeline.Sample(System.currentTimeMillis(), today.toString(), expected, standbysHeld(s),
              failing, nodes.size()));
          view.changed(); // a day may have ended a move
          // The replay's pace: one day of drives every failover.dayEvery, by design.
          Thread.sleep(cfg.dayEvery());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.error("failover replay stopped", e);
      message = "replay stopped: " + e.getMessage();
      mode = "failed";
    }
  }

  /** The node's risk history starts over from {@code past}'s last days (the growth features read them). */
  private static void startTelemetry(Setup s, String node, List<SmartRecord> past) {
    s.engine().forget(node);
    for (SmartRecord r : past.subList(Math.max(0, past.size() - 3), past.size())) {
      s.engine().observe(node, r);
    }
  }

  /** Every prediction is scored once its horizon has passed (0) or the node failed within it (1). */
  private void score(Setup s, List<double[]> pending, int dayIndex, double p, boolean failed, int horizon) {
    pending.add(new double[] {dayIndex, p});
    String model = "failover/" + s.modelName();
    if (failed) {
      pending.forEach(x -> errors.record(model, x[1], x[1], dayIndex - x[0] < horizon ? 1 : 0));
      pending.clear();
      return;
    }
    while (!pending.isEmpty() && dayIndex - pending.get(0)[0] >= horizon - 1) {
      double[] x = pending.remove(0);
      errors.record(model, x[1], x[1], 0);
    }
  }

  private static int standbysHeld(Setup s) {
    return (int) s.manager().statuses().stream()
        .filter(n -> n.standby() == StandbyState.PROVISIONING || n.standby() == StandbyState.READY).count();
  }

  @Override
  public void routes(Api api) {
    api.get("/v1/failover/nodes", ctx -> ctx.json(overview()));
    api.get("/v1/failover/nodes/{node}", ctx -> ctx.json(detail(known(ctx.pathParam("node")))));
    api.command(HandlerType.POST, "/v1/failover/nodes", ctx -> {
      NodeBody b = Json.read(ctx, NodeBody.class, config.server().maxBodyBytes());
      ctx.status(201).json(register(b));
    });
    api.command(HandlerType.POST, "/v1/failover/nodes/{node}/risk", ctx -> {
      // The body first: a malformed body is 400 whatever the node, as on every POST route.
      RiskBody b = Json.read(ctx, RiskBody.class, config.server().maxBodyBytes());
      String node = known(ctx.pathParam("node"));
      if (b.risk() == null || !(b.risk() >= 0 && b.risk() <= 1)) {
        throw new ApiException(400, "risk", String.valueOf(b.risk()),
            "field 'risk' must be a probability in [0, 1], was " + b.risk());
      }
      setup.manager().observe(node, b.risk());
      ctx.json(nodeJson(setup, node, setup.manager().status(node)));
    });
    api.command(HandlerType.POST, "/v1/failover/nodes/{node}/promote", ctx -> {
      Json.read(ctx, PromoteBody.class, config.server().maxBodyBytes());
      String node = known(ctx.pathParam("node"));
      FailoverEvent ev = setup.orchestrator().moveNow(node);
      if (ev == null) {
        throw new ApiException(409, "node", node, "a move of node '" + node + "' is under way");
      }
      ctx.json(eventJson(ev));
    });
  }

  private Setup ready(String what) {
    Setup s = setup;
    if (s == null) {
      throw new ApiException(503, null, null, "the failover capability is " + mode + " (" + message + "); " + what
          + " once it is done");
    }
    return s;
  }

  /** The node named in the path, or 404 naming it. */
  private String known(String node) {
    Setup s = ready("nodes are served");
    if (!s.manager().nodes().contains(node)) {
      throw new ApiException(404, "node", node, "unknown node '" + node + "'");
    }
    return node;
  }

  private NodeJson register(NodeBody b) {
    Setup s = ready("nodes can be registered");
    String name = b.name();
    if (cfg.postgres() && (name == null || !PG_NODE.matcher(name).matches())) {
      throw new ApiException(400, "name", String.valueOf(name),
          "field 'name' must be 1-31 of [a-z0-9_] (it names PostgreSQL servers), starting with a letter, was '"
              + name + "'");
    }
    if (name == null || !NODE.matcher(name).matches()) {
      throw new ApiException(400, "name", String.valueOf(name),
          "field 'name' must be 1-32 of [a-z0-9_-], starting with a letter, was '" + name + "'");
    }
    synchronized (this) {
      if (s.manager().nodes().contains(name)) {
        throw new ApiException(409, "name", name, "node '" + name + "' is registered already");
      }
      if (s.manager().nodes().size() >= MAX_REGISTERED) {
        throw new ApiException(409, "name", name, "at most " + MAX_REGISTERED + " nodes may be known at once");
      }
      try {
        fleet.add(name);
      } catch (IllegalStateException e) {
        // No free port of the configured range: the configuration's limit, not the request's fault.
        throw new ApiException(503, "failover.postgresPorts", cfg.postgresPorts().toString(),
            "node '" + name + "' not started: " + e.getMessage());
      } catch (Exception e) {
        LOG.warn("starting PostgreSQL for node '{}' failed", name, e);
        throw new ApiException(503, "name", name, "node '" + name + "' not started: PostgreSQL failed to start: "
            + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
      }
      try {
        s.manager().register(name);
      } catch (IllegalArgumentException e) {
        // Down at registration: the node goes again (servers and archive), so nothing is left of the request.
        fleet.remove(name);
        throw new ApiException(409, "name", name, e.getMessage());
      }
      registeredAt.put(name, Instant.now());
    }
    return nodeJson(s, name, s.manager().status(name));
  }

  /** The model that scores the nodes' risk. */
  record ModelJson(String name, int horizonDays) {}

  /** The risk thresholds in force, and where they came from. */
  record ThresholdsJson(String source, double decommission, double provision, double promote, int budget) {}

  /** One point of a node's risk history. */
  record RiskPoint(long time, double risk) {}

  /**
   * A shadow node: its risk, its standby and the standby's grant on the ledger ({@code drive} and {@code grant}
   * null when there is none); the list adds {@code recentRisk}. {@code primary} and {@code standbyServer} are its
   * PostgreSQL servers under the postgres driver, null under the simulated one (which has none; they were left
   * out then, unlike every other field without a value).
   */
  record NodeJson(String name, String drive, double risk, long riskAt, String standby, boolean pinned,
      boolean healthy, FailoverNodes.PgServerJson primary, FailoverNodes.PgServerJson standbyServer,
      long standbyMillis, int standbysProvisioned, int moves,
      @JsonInclude(JsonInclude.Include.NON_NULL) String lastError, LedgerJson.Res grant,
      @JsonInclude(JsonInclude.Include.NON_NULL) List<Double> recentRisk) {
    NodeJson withRecent(List<Double> recent) {
      return new NodeJson(name, drive, risk, riskAt, standby, pinned, healthy, primary, standbyServer, standbyMillis,
          standbysProvisioned, moves, lastError, grant, recent);
    }
  }

  /** {@code GET /v1/failover/nodes/{node}}: the node, its whole risk history and its moves. */
  record NodeDetail(@JsonUnwrapped NodeJson node, List<RiskPoint> riskHistory, List<FailoverJson> failovers) {}

  /** One move of a node's work; {@code detectionMillis} null unless a detected failure started it. */
  record FailoverJson(String node, String cause, boolean withStandby, double risk, long started,
      Long detectionMillis, long moveMillis, boolean simulated,
      @JsonInclude(JsonInclude.Include.NON_NULL) String error) {}

  /**
   * {@code GET /v1/failover/nodes}: the capability's state, and once set up its model, thresholds, nodes and
   * moves; {@code day} and {@code round} while a replay runs.
   */
  record Overview(String mode, String driver, String message, @JsonInclude(JsonInclude.Include.NON_NULL) String day,
      @JsonInclude(JsonInclude.Include.NON_NULL) Integer round,
      @JsonInclude(JsonInclude.Include.NON_NULL) ModelJson model,
      @JsonInclude(JsonInclude.Include.NON_NULL) ThresholdsJson thresholds, List<NodeJson> nodes,
      List<FailoverJson> failovers) {}

  private Overview overview() {
    Setup s = setup;
    var today = day;
    String d = today == null ? null : today.toString();
    Integer r = today == null ? null : round;
    if (s == null) {
      return new Overview(mode, cfg.driver(), message, d, r, null, null, List.of(), List.of());
    }
    Thresholds t = s.manager().thresholds();
    List<NodeJson> nodes = new ArrayList<>();
    for (NodeStatus st : s.manager().statuses()) {
      List<ShadowNodeManager.RiskPoint> h = s.manager().riskHistory(st.node());
      List<Double> recent = h.subList(Math.max(0, h.size() - RECENT_RISKS), h.size()).stream()
          .map(ShadowNodeManager.RiskPoint::risk).toList();
      nodes.add(nodeJson(s, st.node(), st).withRecent(recent));
    }
    return new Overview(mode, cfg.driver(), message, d, r, new ModelJson(s.modelName(), s.horizonDays()),
        new ThresholdsJson(s.thresholdsSource(), t.decommission(), t.provision(), t.promote(), cfg.budget()), nodes,
        s.orchestrator().events().stream().map(this::eventJson).toList());
  }

  private NodeDetail detail(String node) {
    Setup s = setup;
    List<RiskPoint> history = s.manager().riskHistory(node).stream()
        .map(p -> new RiskPoint(p.at().toEpochMilli(), p.risk())).toList();
    return new NodeDetail(nodeJson(s, node, s.manager().status(node)), history,
        s.orchestrator().events().stream().filter(ev -> ev.node().equals(node)).map(this::eventJson).toList());
  }

  private NodeJson nodeJson(Setup s, String node, NodeStatus st) {
    // A node may hold two: its standby's (WARM) and that of the standby it was promoted to (ACTIVE, its primary).
    Reservation.State wanted = st.standby() == StandbyState.PROVISIONING || st.standby() == StandbyState.READY
        ? Reservation.State.WARM : Reservation.State.ACTIVE;
    Reservation grant = ledger.snapshot().reservations().stream()
        .filter(r -> r.owner().equals("standby:" + node))
        .min(Comparator.comparing((Reservation r) -> r.state() != wanted)).orElse(null);
    FailoverNodes.Servers servers = fleet.servers(node);
    return new NodeJson(node, drives.get(node), st.risk(), st.riskAt().toEpochMilli(), standbyLabel(s, st),
        st.pinned(), fleet.driver().healthy(node), servers == null ? null : servers.primary(),
        servers == null ? null : servers.standbyServer(), st.standbyTime().toMillis(),
        st.standbysProvisioned(), st.moves(), st.lastError(), grant == null ? null : LedgerJson.Res.of(grant), null);
  }

  /** none, provisioning, warm (ready to be promoted), decommissioning, moving, or promoted (runs on its standby). */
  private static String standbyLabel(Setup s, NodeStatus st) {
    return switch (st.standby()) {
      case READY -> "warm";
      case NONE -> {
        FailoverEvent last = null;
        for (FailoverEvent ev : s.orchestrator().events()) {
          if (ev.node().equals(st.node())) {
            last = ev;
          }
        }
        yield last != null && last.withStandby() && last.error() == null ? "promoted" : "none";
      }
      default -> st.standby().name().toLowerCase(java.util.Locale.ROOT);
    };
  }

  private FailoverJson eventJson(FailoverEvent ev) {
    Instant failed = failedAt.get(ev.node());
    Long detection = ev.cause() == FailoverEvent.Cause.DETECTED && failed != null && !failed.isAfter(ev.started())
        ? Duration.between(failed, ev.started()).toMillis() : null;
    return new FailoverJson(ev.node(), ev.cause().name().toLowerCase(java.util.Locale.ROOT), ev.withStandby(),
        ev.risk(), ev.started().toEpochMilli(), detection, ev.millis(), !cfg.postgres(), ev.error());
  }

  @Override
  public void metrics(MeterRegistry registry) {
    Gauge.builder("penumbra.failover.nodes", this, c -> c.setup == null ? 0 : c.setup.manager().nodes().size())
        .description("Nodes the shadow-node manager watches").register(registry);
    for (StandbyState state : List.of(StandbyState.PROVISIONING, StandbyState.READY)) {
      Gauge.builder("penumbra.failover.standbys", this, c -> c.setup == null ? 0
              : c.setup.manager().statuses().stream().filter(n -> n.standby() == state).count())
          .description("Standbys by state").tag("state", state == StandbyState.READY ? "warm" : "provisioning")
          .register(registry);
    }
    Gauge.builder("penumbra.failover.risk.max", this, c -> c.setup == null ? 0
            : c.setup.manager().statuses().stream().mapToDouble(NodeStatus::risk).max().orElse(0))
        .description("The highest failure probability among the nodes").register(registry);
    FunctionCounter.builder("penumbra.failover.moves", this, c -> c.setup == null ? 0
            : c.setup.orchestrator().events().size())
        .description("Moves of a node's work (before a failure or on a detected one)").register(registry);
  }

  private int moving() {
    Setup s = setup;
    return s == null ? 0
        : (int) s.manager().statuses().stream().filter(n -> n.standby() == StandbyState.MOVING).count();
  }

  /** The standbys' time over the nodes' time: what shadowing the nodes costs, as a share of running them. */
  private double standbyShare() {
    Setup s = setup;
    if (s == null) {
      return Double.NaN;
    }
    Instant now = Instant.now();
    double standby = 0;
    double node = 0;
    for (NodeStatus st : s.manager().statuses()) {
      standby += st.standbyTime().toMillis();
      Instant since = registeredAt.get(st.node());
      node += since == null ? 0 : Duration.between(since, now).toMillis();
    }
    return node == 0 ? Double.NaN : standby / node;
  }

  private volatile long lastSample;

  /** Without the replay, one timeline sample per {@code failover.dayEvery} of the nodes registered over HTTP. */
  @Override
  public void tick() {
    Setup s = setup;
    long now = System.currentTimeMillis();
    if (s == null || !mode.equals("manual") || now - lastSample < cfg.dayEvery().toMillis()) {
      return;
    }
    lastSample = now;
    List<NodeStatus> st = s.manager().statuses();
    long failed = st.stream().filter(n -> !fleet.driver().healthy(n.node())).count();
    timeline.add(new Timeline.Sample(now, "nodes", st.stream().mapToDouble(NodeStatus::risk).sum(), standbysHeld(s),
        failed, st.size()));
  }

  /** One replayed day: the replay runs on its own thread, the demo client waits a day's time. */
  @Override
  public void demoStep(Random random) throws Exception {
    // The demo client's pace, not a wait for a condition: the replay runs on its own thread.
    Thread.sleep(cfg.dayEvery());
  }

  @Override
  public void close() {
    closed = true;
    threads.forEach(Thread::interrupt);
    Setup s = setup;
    if (s != null) {
      s.manager().close();
    }
    // The nodes live as long as the server: their servers stopped, their directories deleted.
    fleet.close();
  }
}
