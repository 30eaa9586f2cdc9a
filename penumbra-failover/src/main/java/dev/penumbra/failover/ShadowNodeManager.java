package dev.penumbra.failover;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Demand;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Allocator;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.loop.ControlLoop;
import dev.penumbra.core.loop.Grant;
import dev.penumbra.core.loop.Model;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shadow-node manager: keeps a warm standby beside the nodes likely to fail, and only those.
 *
 * <ul>
 *   <li>At risk >= {@link Thresholds#provision()} a node becomes a candidate; a candidate with a standby stays one
 *       until its risk has been below {@link Thresholds#decommission()} for the hold time (hysteresis).
 *       {@linkplain #pin Pinned} nodes are always candidates.
 *   <li>At most {@code budget} candidates get a standby: pinned first, then by risk, highest first; a node pushed
 *       out by riskier ones loses its standby.
 *   <li>Provisioning reserves the standby's resources WARM through the core {@link Allocator} (owner
 *       {@code standby:NODE}), then has the {@link NodeDriver} build it; decommissioning removes it and releases the
 *       reservation. Both run on the provisioning executor, never in the caller's thread.
 * </ul>
 *
 * <p>Thread-safe. Bad input (unknown node, risk outside [0, 1], a node down at registration) fails naming the node
 * and value, and changes nothing.
 *
 * <p>About 520 lines, 80 of them its builder: candidacy, the budget, provisioning and moves all read and change the
 * same per-node entries under one lock, so they stay in one class.
 */
public final class ShadowNodeManager implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ShadowNodeManager.class);
  static final int RISK_HISTORY = 1000;

  private final NodeDriver driver;
  // Standbys pass through the core loop: reserved WARM before the standby is built, ACTIVE once promoted.
  private final ControlLoop<String> loop;
  private final Clock clock;
  private final Thresholds thresholds;
  private final int budget;
  private final Duration hold;
  private final Resources standbyAmount;
  private final boolean reprovisionAfterMove;
  private final Executor executor;
  private final ExecutorService ownExecutor;
  private final Map<String, Entry> nodes = new LinkedHashMap<>();
  private volatile BiConsumer<String, Double> riskListener = (n, r) -> {};

  /** One node's record, guarded by the manager's lock. */
  private static final class Entry {
    final String node;
    double risk;
    Instant riskAt;
    Instant lowSince;
    boolean pinned;
    /** Whether {@link #risk} was observed since the node's last move (not carried over from its old primary). */
    boolean observedSinceMove = true;
    StandbyState state = StandbyState.NONE;
    Instant standbySince;
    Duration standbyTime = Duration.ZERO;
    int provisioned;
    int moves;
    String lastError;
    Grant<String> standby;
    /** The reservation of a standby promoted to be the node's primary, held until the node moves again. */
    Grant<String> primary;
    final ArrayList<RiskPoint> history = new ArrayList<>();

    Entry(String node, Instant now) {
      this.node = node;
      this.riskAt = now;
    }
  }

  /** A node's risk at one instant. */
  public record RiskPoint(Instant at, double risk) {}

  private ShadowNodeManager(Builder b) {
    this.driver = b.driver;
    this.loop = ControlLoop.builder("failover/standby", b.allocator, new Model<String>() {
      @Override
      public String name() {
        return "failover/standby";
      }

      @Override
      public Demand predict(String node) {
        return Demand.exact(b.standbyAmount, name());
      }
    }).clock(b.clock).build();
    this.clock = b.clock;
    this.thresholds = b.thresholds;
    this.budget = b.budget;
    this.hold = b.hold;
    this.standbyAmount = b.standbyAmount;
    this.reprovisionAfterMove = b.reprovisionAfterMove;
    if (b.executor != null) {
      this.executor = b.executor;
      this.ownExecutor = null;
    } else {
      this.ownExecutor = Executors.newFixedThreadPool(2, Thread.ofPlatform().daemon().name("standby-", 0).factory());
      this.executor = ownExecutor;
    }
  }

  public static Builder builder(NodeDriver driver, Allocator allocator, Ledger ledger) {
    return new Builder(driver, allocator, ledger);
  }

  /**
   * Options; defaults: {@link Thresholds#fixed()} (the manager has no training days to choose alarm-rate levels on;
   * the server and the benchmarks pass {@link Thresholds#atAlarmRates(FailureDataset, RiskModel)}), budget 2, hold 0, a standby of 250m CPU and 256 MiB. */
  public static final class Builder {
    private final NodeDriver driver;
    private final Allocator allocator;
    private final Ledger ledger;
    private Clock clock = Clock.systemUTC();
    private Thresholds thresholds = Thresholds.fixed();
    private int budget = 2;
    private Duration hold = Duration.ZERO;
    private Resources standbyAmount = Resources.of(250, 256L << 20);
    private boolean reprovisionAfterMove = false;
    private Executor executor;

    private Builder(NodeDriver driver, Allocator allocator, Ledger ledger) {
      if (driver == null || allocator == null || ledger == null) {
        throw new IllegalArgumentException("driver, allocator and ledger must not be null");
      }
      if (allocator.ledger() != ledger) {
        throw new IllegalArgumentException("ledger must be the one the allocator places reservations in");
      }
      this.driver = driver;
      this.allocator = allocator;
      this.ledger = ledger;
    }

    public Builder clock(Clock c) {
      Checks.notNull("clock", c);
      this.clock = c;
      return this;
    }

    public Builder thresholds(Thresholds t) {
      Checks.notNull("thresholds", t);
      this.thresholds = t;
      return this;
    }

    /** The most standbys at once (>= 0). */
    public Builder budget(int b) {
      Checks.atLeast("standby budget", b, 0);
      this.budget = b;
      return this;
    }

    /** How long risk must stay below the decommission threshold before a standby goes (>= 0). */
    public Builder hold(Duration h) {
      Checks.notNegative("hold", h);
      this.hold = h;
      return this;
    }

    /** What one standby reserves (WARM) in the ledger. */
    public Builder standbyAmount(Resources r) {
      Checks.notNull("standby amount", r);
      this.standbyAmount = r;
      return this;
    }

    /**
     * After a move, whether the node keeps its last risk until its next observation (default false: its risk
     * restarts at 0, the new hardware's first observation decides). On, a node still at or above the provision
     * threshold gets a new standby beside its new primary at once. A kept risk never moves the work again by itself:
     * only a risk observed after the move does. Off by default: measured by {@code bench failover} (policy
     * {@code penumbra-reprovision}), it raised penumbra's standby-days above 15% of a standby per node and shortened
     * no time at risk without a standby, since the kept risk is the old hardware's (docs/failover.md).
     */
    public Builder reprovisionAfterMove(boolean on) {
      this.reprovisionAfterMove = on;
      return this;
    }

    /** Where provisioning and decommissioning run; by default two daemon threads of the manager's own. */
    public Builder executor(Executor e) {
      Checks.notNull("executor", e);
      this.executor = e;
      return this;
    }

    public ShadowNodeManager build() {
      return new ShadowNodeManager(this);
    }
  }

  public Thresholds thresholds() {
    return thresholds;
  }

  NodeDriver driver() {
    return driver;
  }

  Clock clock() {
    return clock;
  }

  /** Called with each observed risk, after the manager has acted on it (the orchestrator listens here). */
  void onRisk(BiConsumer<String, Double> listener) {
    this.riskListener = listener;
  }

  /**
   * Starts managing {@code node}, whose primary must answer now.
   *
   * @throws IllegalArgumentException when the name is blank or taken, or the node's primary is down
   */
  public void register(String node) {
    if (node == null || node.isBlank()) {
      throw new IllegalArgumentException("node name must not be blank, was '" + node + "'");
    }
    synchronized (this) {
      if (nodes.containsKey(node)) {
        throw new IllegalArgumentException("node '" + node + "' is registered already");
      }
    }
    boolean up;
    try {
      up = driver.healthy(node);
    } catch (IllegalArgumentException unknown) {
      throw new IllegalArgumentException("node '" + node + "' is not known to the node driver: " + unknown.getMessage());
    }
    if (!up) {
      throw new IllegalArgumentException("node '" + node + "' is down at registration: its primary does not answer");
    }
    synchronized (this) {
      if (nodes.containsKey(node)) {
        throw new IllegalArgumentException("node '" + node + "' is registered already");
      }
      nodes.put(node, new Entry(node, clock.instant()));
    }
  }

  /** Keeps a standby beside {@code node} whatever its risk (within the budget, before any unpinned node). */
  public void pin(String node) {
    synchronized (this) {
      entry(node).pinned = true;
    }
    reconcile();
  }

  /**
   * Records {@code node}'s failure probability and acts on it.
   *
   * @throws IllegalArgumentException for an unknown node or a risk outside [0, 1]; nothing is recorded then
   */
  public void observe(String node, double risk) {
    if (!(risk >= 0 && risk <= 1)) {
      throw new IllegalArgumentException("risk of node '" + node + "' must be in [0, 1], was " + risk);
    }
    synchronized (this) {
      Entry e = entry(node);
      Instant now = clock.instant();
      e.risk = risk;
      e.riskAt = now;
      e.observedSinceMove = true;
      if (risk < thresholds.decommission()) {
        if (e.lowSince == null) {
          e.lowSince = now;
        }
      } else {
        e.lowSince = null;
      }
      if (e.history.size() >= RISK_HISTORY) {
        e.history.remove(0);
      }
      e.history.add(new RiskPoint(now, risk));
    }
    reconcile();
    riskListener.accept(node, risk);
  }

  private Entry entry(String node) {
    Entry e = nodes.get(node);
    if (e == null) {
      throw new IllegalArgumentException("unknown node '" + node + "'; registered: " + nodes.keySet());
    }
    return e;
  }

  /** Compares the standbys there are with those there should be and starts what differs. */
  public void reconcile() {
    List<Runnable> actions = new ArrayList<>();
    synchronized (this) {
      Instant now = clock.instant();
      List<Entry> candidates = new ArrayList<>();
      for (Entry e : nodes.values()) {
        if (e.state == StandbyState.MOVING || e.state == StandbyState.DECOMMISSIONING) {
          continue;
        }
        boolean has = e.state == StandbyState.PROVISIONING || e.state == StandbyState.READY;
        boolean held = has && (e.lowSince == null || Duration.between(e.lowSince, now).compareTo(hold) < 0);
        if (e.pinned || e.risk >= thresholds.provision() || held) {
          candidates.add(e);
        }
      }
      candidates.sort(Comparator.comparing((Entry e) -> !e.pinned).thenComparing(e -> -e.risk));
      List<Entry> wanted = candidates.subList(0, Math.min(budget, candidates.size()));
      for (Entry e : nodes.values()) {
        boolean want = wanted.contains(e);
        if (want && e.state == StandbyState.NONE) {
          e.state = StandbyState.PROVISIONING;
          e.standbySince = now;
          e.provisioned++;
          actions.add(() -> provision(e));
        } else if (!want && e.state == StandbyState.READY) {
          e.state = StandbyState.DECOMMISSIONING;
          actions.add(() -> decommission(e));
        }
      }
    }
    for (Runnable a : actions) {
      executor.execute(a);
    }
  }

  private void provision(Entry e) {
    try {
      Grant<String> g = loop.reserve("standby:" + e.node, e.node, Sla.of(Priority.STANDARD));
      try {
        g.placed().get(5, TimeUnit.SECONDS);
      } catch (TimeoutException full) {
        g.release();
        throw new IllegalStateException("no capacity for a standby of " + standbyAmount + " within 5 s");
      }
      synchronized (this) {
        e.standby = g;
      }
      driver.provisionStandby(e.node);
      double risk;
      boolean observed;
      synchronized (this) {
        if (e.state != StandbyState.PROVISIONING) {
          return;
        }
        e.state = StandbyState.READY;
        e.lastError = null;
        risk = e.risk;
        observed = e.observedSinceMove;
      }
      LOG.info("standby of node '{}' ready", e.node);
      // The risk may have reached the promote threshold while the standby was being built; a risk kept from before
      // the last move does not move the work again.
      if (observed) {
        riskListener.accept(e.node, risk);
      }
      // The node may have stopped being a candidate while its standby was being built (a new observation, a riskier
      // node): decided now, not at the next observation, which may be a telemetry interval away.
      reconcile();
    } catch (Exception ex) {
      if (ex instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      LOG.warn("provisioning a standby for node '{}' failed: {}", e.node, ex.toString());
      synchronized (this) {
        e.lastError = "provision: " + ex.getMessage();
        if (e.state == StandbyState.PROVISIONING) {
          endStandby(e);
        }
      }
    }
  }

  private void decommission(Entry e) {
    try {
      driver.decommissionStandby(e.node);
    } catch (Exception ex) {
      if (ex instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      LOG.warn("decommissioning the standby of node '{}' failed: {}", e.node, ex.toString());
      synchronized (this) {
        e.lastError = "decommission: " + ex.getMessage();
      }
    }
    synchronized (this) {
      if (e.state == StandbyState.DECOMMISSIONING) {
        endStandby(e);
      }
    }
    reconcile();
  }

  /** Under the lock: the standby is gone; its reservation is released and its time counted. */
  private void endStandby(Entry e) {
    e.state = StandbyState.NONE;
    if (e.standbySince != null) {
      e.standbyTime = e.standbyTime.plus(Duration.between(e.standbySince, clock.instant()));
      e.standbySince = null;
    }
    if (e.standby != null) {
      try {
        e.standby.release();
      } catch (IllegalStateException | IllegalArgumentException ended) {
        // It expired or was preempted meanwhile: nothing to give back.
      }
      e.standby = null;
    }
  }

  /**
   * Marks the node as moving; returns whether a ready standby is there to promote. While moving, nothing is
   * provisioned or decommissioned for it.
   */
  synchronized boolean beginMove(String node) {
    Entry e = entry(node);
    boolean ready = e.state == StandbyState.READY;
    if (!ready && e.state == StandbyState.PROVISIONING) {
      // The half-built standby goes with the failed primary.
      endStandby(e);
    }
    if (ready && e.standbySince != null) {
      e.standbyTime = e.standbyTime.plus(Duration.between(e.standbySince, clock.instant()));
      e.standbySince = null;
    }
    e.state = StandbyState.MOVING;
    return ready;
  }

  /**
   * The move is over: the node runs on new hardware with no standby and no risk history of its own yet; its risk
   * restarts at 0, or with {@link Builder#reprovisionAfterMove} it keeps its last risk until its next observation,
   * so the reconciliation that follows gives it a new standby at once when that risk is at the provision threshold.
   * A promoted standby's reservation becomes ACTIVE (it is the node's primary now).
   */
  void endMove(String node, boolean promoted) {
    synchronized (this) {
      Entry e = entry(node);
      // The node's previous primary is gone (fenced): if it was a promoted standby, its reservation goes with it.
      Grant<String> oldPrimary = e.primary;
      e.primary = null;
      if (e.standby != null) {
        try {
          if (promoted) {
            e.standby.activate();
            e.primary = e.standby;
          } else {
            e.standby.release();
          }
        } catch (IllegalStateException | IllegalArgumentException ended) {
          // Expired meanwhile.
        }
        e.standby = null;
      }
      if (oldPrimary != null) {
        try {
          oldPrimary.release();
        } catch (IllegalStateException | IllegalArgumentException ended) {
          // Expired meanwhile.
        }
      }
      e.state = StandbyState.NONE;
      if (!reprovisionAfterMove) {
        e.risk = 0;
        e.lowSince = null;
      }
      e.observedSinceMove = false;
      e.moves++;
    }
    reconcile();
  }

  /** The node's current status. */
  public synchronized NodeStatus status(String node) {
    Entry e = entry(node);
    Duration time = e.standbyTime;
    if (e.standbySince != null) {
      time = time.plus(Duration.between(e.standbySince, clock.instant()));
    }
    return new NodeStatus(e.node, e.risk, e.riskAt, e.state, e.pinned, time, e.provisioned, e.moves, e.lastError);
  }

  /** Every node's status, in registration order. */
  public synchronized List<NodeStatus> statuses() {
    return nodes.keySet().stream().map(this::status).toList();
  }

  /** The node's recent risk observations (at most {@value #RISK_HISTORY}), oldest first. */
  public synchronized List<RiskPoint> riskHistory(String node) {
    return List.copyOf(entry(node).history);
  }

  public synchronized List<String> nodes() {
    return List.copyOf(nodes.keySet());
  }

  /** Stops the provisioning threads it owns (standbys are left to the driver's owner). */
  @Override
  public void close() {
    if (ownExecutor != null) {
      ownExecutor.shutdownNow();
    }
  }
}
