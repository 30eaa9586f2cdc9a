package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.JsonNode;
import dev.penumbra.core.ledger.Ledger;
import io.javalin.Javalin;
import io.micrometer.core.instrument.Meter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every {@link Capability} must do, run on each one the server builds from its configuration (query, stream,
 * task, shard, failover, and the cluster's on a one-replica Raft group on loopback): a stable lower-case name,
 * routes all under {@code /v1} and all in the OpenAPI file, its readiness before start as it declares it and never
 * after close, a close that may be called twice, meters that carry its name and clash with no other capability's,
 * an {@code awaitIdle} that returns at once when nothing is in flight, and optional parts ({@link Capability.Learning},
 * {@link Capability.Timed}, {@link Capability.Admission}) that are its own when it has them and no-ops otherwise: its
 * timer work harmless before start and after close, nothing waiting when nothing was asked, and what it learned taken
 * back by a fresh instance as it was given.
 */
class CapabilityContractTest {

  /** Each cluster case's replica: its own data directory and port, left after each test. */
  @TempDir
  static Path dir;

  private static final List<ClusterCapability> REPLICAS = new CopyOnWriteArrayList<>();
  /** Each replica its own id: Ratis registers every server by group and id with the JVM's MBean server. */
  private static final AtomicInteger SERIAL = new AtomicInteger();

  /**
   * One capability as the server makes it; {@code readyBeforeStart}: it takes work from construction (its
   * {@code start()} prepares nothing it needs first); {@code startHere}: its start is cheap enough to run here.
   */
  record Case(String name, PenumbraServer.CapabilityFactory factory, boolean readyBeforeStart, boolean startHere) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Case> capabilities() {
    return Stream.of(
        new Case("query", QueryCapability::new, false, true),
        new Case("stream", StreamCapability::new, true, true),
        new Case("task", TaskCapability::new, true, true),
        new Case("shard", ShardCapability::new, true, true),
        // Ready at once: it answers with its mode while its model trains in the background (start()).
        new Case("failover", FailoverCapability::new, true, false),
        // Ready once built: the server builds it by starting this node's replica and waiting for a leader.
        new Case("cluster", CapabilityContractTest::oneReplica, true, true));
  }

  /** The cluster's capability as {@code serve --cluster} builds it, on a group of this one replica. */
  private static Capability oneReplica(Ledger unused, ServerConfig base, Consumer<String> progress) {
    try {
      Path data = Files.createTempDirectory(dir, "replica");
      String self = "r" + SERIAL.incrementAndGet();
      ServerConfig config = TestServers.config(Map.of("PENUMBRA_CLUSTER_SELF", self,
          "PENUMBRA_CLUSTER_PEERS", self + "=127.0.0.1:" + freePort(), "PENUMBRA_CLUSTER_DATA_DIR", data.toString(),
          "PENUMBRA_CLUSTER_AWAIT_LEADER", "30s"));
      ClusterCapability c = ClusterCapability.start(config.cluster(), Clock.systemUTC(), progress);
      REPLICAS.add(c);
      return c;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @AfterEach
  void leaveTheGroups() {
    REPLICAS.forEach(ClusterCapability::leave);
    REPLICAS.clear();
  }

  private static Capability create(Case c) {
    ServerConfig config = TestServers.config(Map.of());
    Ledger ledger = Ledger.inMemory(Clock.systemUTC());
    ledger.addNode(config.ledger().node(), config.ledger().capacity());
    return c.factory().create(ledger, config, m -> {});
  }

  private static Set<String> documented() throws Exception {
    try (InputStream in = Capability.class.getResourceAsStream("openapi.json")) {
      JsonNode doc = Json.MAPPER.readTree(in);
      Set<String> out = new HashSet<>();
      doc.get("paths").fields().forEachRemaining(p -> p.getValue().fieldNames()
          .forEachRemaining(m -> out.add(m + " " + p.getKey())));
      return out;
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("capabilities")
  void nameIsStableAndLowerCase(Case c) {
    try (Capability a = create(c); Capability b = create(c)) {
      assertThat(a.name()).isEqualTo(c.name()).matches("[a-z]+").isEqualTo(b.name());
      assertThat(a.view().name()).isEqualTo(a.name());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("capabilities")
  void everyRouteIsUnderV1AndInTheOpenApiFile(Case c) throws Exception {
    List<Api.Route> routes = new ArrayList<>();
    try (Capability cap = create(c)) {
      Javalin.create(cfg -> {
        Api api = new Api(cfg.routes, null);
        cap.routes(api);
        routes.addAll(api.routes());
      });
    }
    assertThat(routes).as("a capability serves at least one route").isNotEmpty();
    Set<String> documented = documented();
    for (Api.Route r : routes) {
      assertThat(r.path()).as(r.toString()).startsWith("/v1/");
      assertThat(documented).as("OpenAPI file").contains(r.method() + " " + r.path());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("capabilities")
  void readyAsDeclaredBeforeStartAndNeverAfterClose(Case c) throws Exception {
    Capability cap = create(c);
    try {
      assertThat(cap.view().ready()).as("ready before start").isEqualTo(c.readyBeforeStart());
      assertThat(cap.view().inFlight()).isZero();
      assertThat(cap.view().queued()).isZero();
      if (c.startHere()) {
        cap.start();
        assertThat(cap.view().ready()).as("ready after start").isTrue();
      }
    } finally {
      cap.close();
    }
    assertThat(cap.view().ready()).as("ready after close").isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("capabilities")
  void closeMayBeCalledTwice(Case c) {
    Capability cap = create(c);
    cap.close();
    assertThatCode(cap::close).doesNotThrowAnyException();
    assertThat(cap.view().ready()).isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("capabilities")
  void awaitIdleReturnsAtOnceWithNothingInFlight(Case c) throws Exception {
    try (Capability cap = create(c)) {
      assertThat(cap.view().inFlight()).isZero();
      // A grace far longer than the test's timeout: only a wait that reads the count first can pass.
      assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThat(cap.view().awaitIdle(Duration.ofHours(1))).isTrue());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("capabilities")
  void optionalPartsAreItsOwnOrTheNoOps(Case c) {
    try (Capability cap = create(c)) {
      assertThat(cap.learning()).isSameAs(cap instanceof Capability.Learning ? cap : Capability.Learning.NONE);
      assertThat(cap.timed()).isSameAs(cap instanceof Capability.Timed ? cap : Capability.Timed.NONE);
      assertThat(cap.admission()).isSameAs(cap instanceof Capability.Admission ? cap : Capability.Admission.NONE);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("capabilities")
  void timerWorkIsHarmlessBeforeStartAndAfterCloseAndNothingWaitsUnasked(Case c) {
    Capability cap = create(c);
    try {
      assertThatCode(() -> cap.timed().tick()).as("tick before start").doesNotThrowAnyException();
      assertThat(cap.admission().mostUrgentWaiting()).isEmpty();
    } finally {
      cap.close();
    }
    assertThatCode(() -> cap.timed().tick()).as("tick after close").doesNotThrowAnyException();
    assertThat(cap.admission().mostUrgentWaiting()).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("capabilities")
  void whatItLearnedIsTakenBackByAFreshInstance(Case c) throws Exception {
    try (Capability first = create(c); Capability second = create(c)) {
      if (c.startHere()) {
        first.start();
        second.start();
      }
      Optional<JsonNode> saved = first.learning().learned();
      if (!(first instanceof Capability.Learning)) {
        assertThat(saved).as("a capability without Learning keeps nothing").isEmpty();
        return;
      }
      assertThat(saved).as("a Learning capability that started says what it learned").isPresent();
      assertThat(second.learning().restoreLearned(saved.get(), Optional.empty())).as("no model given, none refused")
          .isTrue();
      assertThat(second.learning().learned()).contains(saved.get());
    }
  }

  @Test
  void metricsCarryTheCapabilitysNameAndClashWithNoOther() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    List<Capability> all = capabilities().map(CapabilityContractTest::create).toList();
    try {
      Map<Meter.Id, String> owner = new HashMap<>();
      for (Capability cap : all) {
        Set<Meter.Id> before = new HashSet<>(registry.getMeters().stream().map(Meter::getId).toList());
        assertThatCode(() -> cap.metrics(registry)).as(cap.name()).doesNotThrowAnyException();
        List<Meter.Id> added = registry.getMeters().stream().map(Meter::getId).filter(id -> !before.contains(id))
            .toList();
        assertThat(added).as(cap.name() + " registers meters").isNotEmpty();
        for (Meter.Id id : added) {
          boolean named = id.getName().startsWith("penumbra." + cap.name() + ".")
              || cap.name().equals(id.getTag("capability"));
          assertThat(named).as(cap.name() + ": " + id).isTrue();
          assertThat(owner.put(id, cap.name())).as(id.toString()).isNull();
        }
      }
      // One scrape shows them all: Prometheus refuses one name with different label sets, so a clash fails here.
      String scrape = registry.scrape();
      for (Capability cap : all) {
        assertThat(scrape.contains("penumbra_" + cap.name() + "_") || scrape.contains("capability=\"" + cap.name()))
            .as(cap.name() + " in the scrape").isTrue();
      }
    } finally {
      all.forEach(Capability::close);
    }
  }
}
