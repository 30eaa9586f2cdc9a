package dev.penumbra.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Allocator;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The manager's and the orchestrator's decisions, on a driver that records what it is asked (no PostgreSQL). */
class ShadowNodeManagerTest {

  /** Records calls; a node's health is what the test sets. */
  static final class RecordingDriver implements NodeDriver {
    final Map<String, Boolean> up = new HashMap<>();
    final List<String> calls = new ArrayList<>();

    @Override
    public boolean healthy(String node) {
      Boolean u = up.get(node);
      if (u == null) {
        throw new IllegalArgumentException("unknown node '" + node + "'");
      }
      return u;
    }

    @Override
    public void provisionStandby(String node) {
      calls.add("provision " + node);
    }

    @Override
    public void decommissionStandby(String node) {
      calls.add("decommission " + node);
    }

    @Override
    public void promoteStandby(String node) {
      calls.add("promote " + node);
    }

    @Override
    public void replaceFromArchive(String node) {
      calls.add("replace " + node);
    }
  }

  ManualClock clock;
  Ledger ledger;
  RecordingDriver driver;
  ShadowNodeManager manager;
  WorkloadOrchestrator orchestrator;

  @BeforeEach
  void setUp() {
    clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    ledger = Ledger.inMemory(clock);
    ledger.addNode("standby-pool", Resources.of(4000, 4L << 30));
    Allocator allocator = Allocator.builder(ledger).lease(Duration.ofDays(1)).build();
    driver = new RecordingDriver();
    for (String n : List.of("a", "b", "c")) {
      driver.up.put(n, true);
    }
    manager = ShadowNodeManager.builder(driver, allocator, ledger).clock(clock).budget(2)
        .hold(Duration.ofSeconds(10)).executor(Runnable::run).build();
    orchestrator = new WorkloadOrchestrator(manager, 2, Runnable::run);
    for (String n : List.of("a", "b", "c")) {
      manager.register(n);
    }
  }

  List<Reservation> live() {
    return ledger.snapshot().reservations().stream().filter(Reservation::isLive).toList();
  }

  @Test
  void provisionsAtRiskAndKeepsTheStandbyUntilRiskStaysLowForTheHoldTime() {
    manager.observe("a", 0.69);
    assertThat(manager.status("a").standby()).isEqualTo(StandbyState.NONE);
    manager.observe("a", 0.7);
    assertThat(manager.status("a").standby()).isEqualTo(StandbyState.READY);
    assertThat(driver.calls).containsExactly("provision a");
    assertThat(live()).singleElement().satisfies(r -> {
      assertThat(r.owner()).isEqualTo("standby:a");
      assertThat(r.state()).isEqualTo(Reservation.State.WARM);
    });
    // Between the thresholds: kept. Below decommission: kept until the hold time has passed.
    manager.observe("a", 0.6);
    manager.observe("a", 0.1);
    clock.advance(Duration.ofSeconds(9));
    manager.observe("a", 0.1);
    assertThat(manager.status("a").standby()).isEqualTo(StandbyState.READY);
    clock.advance(Duration.ofSeconds(1));
    manager.observe("a", 0.1);
    assertThat(manager.status("a").standby()).isEqualTo(StandbyState.NONE);
    assertThat(driver.calls).containsExactly("provision a", "decommission a");
    assertThat(live()).isEmpty();
    assertThat(manager.status("a").standbyTime()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void budgetGoesToTheRiskiestNodes() {
    manager.observe("a", 0.75);
    manager.observe("b", 0.8);
    manager.observe("c", 0.85);
    // Budget 2: c came in riskier than a, so a's standby went to c.
    assertThat(manager.status("a").standby()).isEqualTo(StandbyState.NONE);
    assertThat(manager.status("b").standby()).isEqualTo(StandbyState.READY);
    assertThat(manager.status("c").standby()).isEqualTo(StandbyState.READY);
    assertThat(driver.calls).containsExactly("provision a", "provision b", "decommission a", "provision c");
    assertThat(live()).hasSize(2);
  }

  @Test
  void promotesBeforeTheFailureAtThePromoteThreshold() {
    manager.observe("a", 0.8);
    manager.observe("a", 0.95);
    assertThat(driver.calls).containsExactly("provision a", "promote a");
    FailoverEvent e = orchestrator.events().get(0);
    assertThat(e.cause()).isEqualTo(FailoverEvent.Cause.PLANNED);
    assertThat(e.withStandby()).isTrue();
    // The promoted standby's reservation is the node's primary now; the node's risk restarts with its new hardware.
    assertThat(live()).singleElement().extracting(Reservation::state).isEqualTo(Reservation.State.ACTIVE);
    assertThat(manager.status("a").moves()).isEqualTo(1);
    assertThat(manager.status("a").risk()).isZero();
    assertThat(manager.status("a").standby()).isEqualTo(StandbyState.NONE);
    // A second move fences the promoted primary: its reservation goes, the newly promoted one's stays.
    manager.observe("a", 0.8);
    manager.observe("a", 0.95);
    assertThat(manager.status("a").moves()).isEqualTo(2);
    assertThat(live()).singleElement().extracting(Reservation::state).isEqualTo(Reservation.State.ACTIVE);
  }

  @Test
  void withReprovisioningAMovedNodeStillAtRiskGetsANewStandbyAtOnce() {
    ShadowNodeManager m = ShadowNodeManager.builder(driver, Allocator.builder(ledger).lease(Duration.ofDays(1)).build(),
        ledger).clock(clock).budget(2).executor(Runnable::run).reprovisionAfterMove(true).build();
    WorkloadOrchestrator wo = new WorkloadOrchestrator(m, 2, Runnable::run);
    m.register("a");
    m.observe("a", 0.8);
    m.observe("a", 0.95);
    // A new standby beside the new primary at once; the kept risk does not move the work again when it is ready.
    assertThat(driver.calls).containsExactly("provision a", "promote a", "provision a");
    assertThat(wo.events()).hasSize(1);
    assertThat(m.status("a").standby()).isEqualTo(StandbyState.READY);
    assertThat(m.status("a").risk()).isEqualTo(0.95);
    assertThat(live()).extracting(Reservation::state)
        .containsExactlyInAnyOrder(Reservation.State.ACTIVE, Reservation.State.WARM);
    // A risk observed after the move does move it again.
    m.observe("a", 0.95);
    assertThat(m.status("a").moves()).isEqualTo(2);
    // The new hardware's telemetry says it is healthy: the standby goes (hold 0).
    m.observe("a", 0.1);
    assertThat(m.status("a").standby()).isEqualTo(StandbyState.NONE);
    assertThat(live()).singleElement().extracting(Reservation::state).isEqualTo(Reservation.State.ACTIVE);
  }

  @Test
  void aStandbyWhoseNodeStoppedBeingACandidateWhileItWasBuiltGoesWhenReady() {
    List<Runnable> queued = new ArrayList<>();
    ShadowNodeManager deferred = ShadowNodeManager.builder(driver, Allocator.builder(ledger).build(), ledger)
        .clock(clock).budget(1).executor(queued::add).build();
    deferred.register("a");
    deferred.observe("a", 0.8);
    deferred.observe("a", 0.1);
    // Still provisioning: nothing to decommission yet. Once ready it goes, without waiting for another observation.
    queued.remove(0).run();
    assertThat(deferred.status("a").standby()).isEqualTo(StandbyState.DECOMMISSIONING);
    queued.remove(0).run();
    assertThat(deferred.status("a").standby()).isEqualTo(StandbyState.NONE);
    assertThat(driver.calls).containsExactly("provision a", "decommission a");
  }

  @Test
  void twoTriggersForOneRiskMoveTheWorkOnce() {
    // The observation and the standby becoming ready both queue a move; the second finds the work moved already
    // and must not replace the node (it has no standby any more).
    List<Runnable> moves = new ArrayList<>();
    List<Runnable> queued = new ArrayList<>();
    ShadowNodeManager deferred = ShadowNodeManager.builder(driver, Allocator.builder(ledger).build(), ledger)
        .clock(clock).budget(1).executor(queued::add).build();
    WorkloadOrchestrator wo = new WorkloadOrchestrator(deferred, 2, moves::add);
    deferred.register("a");
    deferred.observe("a", 0.8);
    queued.remove(0).run();
    deferred.observe("a", 0.95);
    deferred.observe("a", 0.96);
    assertThat(moves).hasSize(2);
    moves.forEach(Runnable::run);
    assertThat(driver.calls).containsExactly("provision a", "promote a");
    assertThat(wo.events()).singleElement().extracting(FailoverEvent::withStandby).isEqualTo(true);
  }

  @Test
  void detectsAFailureAfterConsecutiveFailedChecksAndReplacesWithoutStandby() {
    driver.up.put("b", false);
    assertThat(orchestrator.checkHealth()).isEmpty();
    assertThat(orchestrator.checkHealth()).containsExactly("b");
    assertThat(driver.calls).containsExactly("replace b");
    assertThat(orchestrator.events()).singleElement().satisfies(e -> {
      assertThat(e.cause()).isEqualTo(FailoverEvent.Cause.DETECTED);
      assertThat(e.withStandby()).isFalse();
    });
  }

  @Test
  void pinnedNodesKeepAStandbyWhateverTheirRisk() {
    manager.pin("c");
    assertThat(manager.status("c").standby()).isEqualTo(StandbyState.READY);
    driver.up.put("c", false);
    orchestrator.checkHealth();
    orchestrator.checkHealth();
    assertThat(driver.calls).containsExactly("provision c", "promote c", "provision c");
  }

  @Test
  void badInputIsRefusedNamingTheValueAndChangesNothing() {
    assertThatThrownBy(() -> manager.observe("a", 1.5)).hasMessageContaining("'a'").hasMessageContaining("1.5");
    assertThatThrownBy(() -> manager.observe("a", -0.1)).hasMessageContaining("-0.1");
    assertThatThrownBy(() -> manager.observe("zz", 0.5)).hasMessageContaining("unknown node 'zz'");
    assertThatThrownBy(() -> manager.register("a")).hasMessageContaining("'a' is registered already");
    assertThatThrownBy(() -> manager.register("nope")).hasMessageContaining("'nope'");
    driver.up.put("d", false);
    assertThatThrownBy(() -> manager.register("d")).hasMessageContaining("node 'd' is down at registration");
    assertThat(manager.nodes()).containsExactly("a", "b", "c");
    assertThat(manager.riskHistory("a")).isEmpty();
    assertThat(driver.calls).isEmpty();
    assertThatThrownBy(() -> new Thresholds(0.5, 0.9, 0.9)).hasMessageContaining("provision threshold (0.9)");
    assertThatThrownBy(() -> new Thresholds(0.5, 0.95, 0.9)).hasMessageContaining("below the promote");
    assertThatThrownBy(() -> new Thresholds(0.5, 0.7, 1.2)).hasMessageContaining("promote threshold must be in [0, 1], was 1.2");
    assertThatThrownBy(() -> new Thresholds(-0.1, 0.7, 0.9)).hasMessageContaining("was -0.1");
    assertThatThrownBy(() -> new Thresholds(0.8, 0.7, 0.9)).hasMessageContaining("hysteresis");
    assertThatThrownBy(() -> new WorkloadOrchestrator(manager, 0)).hasMessageContaining("was 0");
  }
}
