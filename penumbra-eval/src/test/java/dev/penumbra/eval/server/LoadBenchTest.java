package dev.penumbra.eval.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ManualClock;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.server.ServerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LoadBenchTest {

  @Test
  void aSmallLoadEndsCleanWithEveryRequestAnswered() throws Exception {
    ServerConfig cfg = ServerConfig.load(null, Map.of(
        "PENUMBRA_QUERY_SCALE", "0.01",
        "PENUMBRA_QUERY_CACHE_DIR", Path.of("target", "test-cache").toAbsolutePath().toString(),
        "PENUMBRA_LEDGER_MEMORY", "512MiB", "PENUMBRA_LEDGER_CORES", "2"));
    AtomicInteger progress = new AtomicInteger();
    LoadBench.Result r = LoadBench.run(cfg, new LoadBench.Options(3, 30, Duration.ofSeconds(60), 0.5, 1),
        progress::set);
    assertThat(r.sent()).isEqualTo(30);
    assertThat(progress.get()).isEqualTo(30);
    assertThat(r.byStatus()).containsOnlyKeys(200);
    assertThat(r.serverErrors()).isZero();
    assertThat(r.transportErrors()).isZero();
    assertThat(r.byKind()).containsKeys("query", "read");
    assertThat(r.ledgerEvents()).isPositive();
    assertThat(r.invariantViolations()).isZero();
    assertThat(r.leftReserved()).isZero();
    assertThat(r.all().p99()).isGreaterThanOrEqualTo(r.all().p50());
    LoadBenchReport report = new LoadBenchReport(r);
    assertThat(report.clean()).isTrue();
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    report.print("json", new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
    com.fasterxml.jackson.databind.JsonNode json = dev.penumbra.server.Json.MAPPER.readTree(out.toByteArray());
    assertThat(json.get("sent").asInt()).isEqualTo(30);
    assertThat(json.get("byKind").has("query")).isTrue();
    out.reset();
    report.print("table", new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
    assertThat(out.toString(java.nio.charset.StandardCharsets.UTF_8)).startsWith("requests 30 in ")
        .contains("invariant violations: 0 (target 0)");
  }

  @Test
  void aHostileMixIsRefusedAndCriticalWorkGetsThroughTheHog() throws Exception {
    ServerConfig cfg = ServerConfig.load(null, Map.of(
        "PENUMBRA_QUERY_SCALE", "0.01",
        "PENUMBRA_QUERY_CACHE_DIR", Path.of("target", "test-cache").toAbsolutePath().toString(),
        "PENUMBRA_LEDGER_MEMORY", "512MiB", "PENUMBRA_LEDGER_CORES", "2", "PENUMBRA_SERVER_HEADER_TIMEOUT", "1s"));
    LoadBench.Result r = LoadBench.run(cfg, new LoadBench.Options(3, 60, Duration.ofSeconds(120), 0.6, 3, 0.4),
        n -> { });
    LoadBench.Hostile h = r.hostile();
    assertThat(r.all().count()).as("every answered request once").isEqualTo(60);
    assertThat(h.sent()).isPositive();
    assertThat(h.accepted()).isZero();
    assertThat(h.refused()).isEqualTo(h.sent());
    assertThat(h.probesRefused()).isEqualTo(h.probes());
    assertThat(r.serverErrors()).as("%s", r.byStatus()).isZero();
    assertThat(r.transportErrors()).isZero();
    assertThat(r.invariantViolations()).isZero();
    assertThat(r.leftReserved()).isZero();
    if (r.byKind().containsKey("query critical")) {
      assertThat(h.hogReleased()).as("a critical query ran, so the hog gave way").isTrue();
    }
    assertThat(h.residentBytesAfter()).isPositive();
    assertThat(h.slowClients()).isEqualTo(LoadBench.SLOW_CLIENTS);
    assertThat(h.slowCutOff()).as("every slow-header client cut off").isEqualTo(h.slowClients());
  }

  @Test
  void theInvariantCheckSeesAnOverfullNode() {
    Ledger ledger = Ledger.inMemory(new ManualClock(Instant.EPOCH));
    ledger.addNode("n", Resources.cpu(1000));
    ledger.reserve("a", "n", Resources.cpu(600), Priority.BATCH, Duration.ofMinutes(1));
    assertThat(LoadBench.holds(ledger.snapshot())).isTrue();
    var s = ledger.snapshot();
    // A snapshot whose reservations exceed what the node reports used is caught.
    var forged = new dev.penumbra.core.ledger.LedgerSnapshot(s.sequence(), s.time(), s.nodes(),
        java.util.List.of(s.reservations().get(0), s.reservations().get(0)));
    assertThat(LoadBench.holds(forged)).isFalse();
  }

  @Test
  void badOptionsAreNamed() {
    assertThatThrownBy(() -> new LoadBench.Options(0, 1, Duration.ofSeconds(1), 0.5, 1)).hasMessageContaining("clients");
    assertThatThrownBy(() -> new LoadBench.Options(1, 1, Duration.ZERO, 0.5, 1)).hasMessageContaining("limit");
    assertThatThrownBy(() -> new LoadBench.Options(1, 1, Duration.ofSeconds(1), 1.5, 1)).hasMessageContaining("1.5");
  }
}
