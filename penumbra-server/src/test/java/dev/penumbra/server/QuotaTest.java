package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.penumbra.server.TestServers.Reply;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Per-principal quotas: a principal at its CPU, memory or in-flight cap gets 429 naming itself and the quota,
 * and another principal's critical work goes through untouched.
 */
class QuotaTest {
  static final String ANA = "ana-token-0123456789";
  static final String OPS = "ops-token-0123456789";
  static PenumbraServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServers.started(Map.of("PENUMBRA_STREAM_ENABLED", "false", "PENUMBRA_TASK_ENABLED", "true",
        "PENUMBRA_AUTH_TOKENS", "ana:standard:" + ANA + ", ops:critical:" + OPS,
        "PENUMBRA_AUTH_QUOTAS", "ana:cpu=1:memory=128MiB:inFlight=1"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static Reply send(String path, String token, String body) throws Exception {
    return TestServers.send(HttpRequest.newBuilder(URI.create(server.url() + path))
        .header("Content-Type", "application/json").header("Authorization", "Bearer " + token)
        .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  static void release(long id) throws Exception {
    TestServers.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/reservations/" + id))
        .header("Authorization", "Bearer " + ANA).DELETE().build());
  }

  @Test
  void aPrincipalPastItsCpuOrMemoryQuotaGets429AndAnotherPrincipalsCriticalWorkRuns() throws Exception {
    Reply first = send("/v1/reservations", ANA, "{\"cpu\": \"600m\", \"memory\": \"64MiB\", \"leaseSeconds\": 60}");
    assertThat(first.status()).as(first.body()).isEqualTo(201);
    Reply cpu = send("/v1/reservations", ANA, "{\"cpu\": \"500m\", \"memory\": \"16MiB\", \"leaseSeconds\": 60}");
    assertThat(cpu.status()).as(cpu.body()).isEqualTo(429);
    assertThat(cpu.json().get("principal").asText()).isEqualTo("ana");
    assertThat(cpu.json().get("field").asText()).isEqualTo("cpu");
    assertThat(cpu.json().get("error").asText()).contains("ana").contains("cpu = 1");
    Reply mem = send("/v1/reservations", ANA, "{\"cpu\": \"100m\", \"memory\": \"100MiB\", \"leaseSeconds\": 60}");
    assertThat(mem.status()).as(mem.body()).isEqualTo(429);
    assertThat(mem.json().get("field").asText()).isEqualTo("memory");
    assertThat(server.ledger().snapshot().reservations()).as("nothing more was reserved").hasSize(1);
    Reply fits = send("/v1/reservations", ANA, "{\"cpu\": \"400m\", \"memory\": \"16MiB\", \"leaseSeconds\": 60}");
    assertThat(fits.status()).as("up to the cap is fine: " + fits.body()).isEqualTo(201);
    // At its CPU cap: any new work of ana is refused, a query too.
    Reply query = send("/v1/queries", ANA, "{\"sql\": \"SELECT count(*) FROM nation\"}");
    assertThat(query.status()).as(query.body()).isEqualTo(429);
    assertThat(query.json().get("principal").asText()).isEqualTo("ana");
    Reply critical = send("/v1/queries", OPS, "{\"sql\": \"SELECT count(*) FROM nation\", \"priority\": \"critical\"}");
    assertThat(critical.status()).as(critical.body()).isEqualTo(200);
    release(first.json().get("id").asLong());
    release(fits.json().get("id").asLong());
    Reply after = send("/v1/queries", ANA, "{\"sql\": \"SELECT count(*) FROM nation\"}");
    assertThat(after.status()).as("below the cap again: " + after.body()).isEqualTo(200);
  }

  @Test
  void aPrincipalAtItsInFlightQuotaGets429WhileItsWorkRuns() throws Exception {
    CompletableFuture<Reply> running = CompletableFuture.supplyAsync(() -> {
      try {
        return send("/v1/tasks", ANA, "{\"type\": \"slow\", \"phases\": [{\"millis\": 4000}]}");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> server.capability("task").orElseThrow().view().inFlight() == 1);
    Reply second = send("/v1/tasks", ANA, "{\"type\": \"slow\", \"phases\": [{\"millis\": 1}]}");
    assertThat(second.status()).as(second.body()).isEqualTo(429);
    assertThat(second.json().get("field").asText()).isEqualTo("inFlight");
    assertThat(second.json().get("value").asText()).isEqualTo("1");
    assertThat(second.json().get("principal").asText()).isEqualTo("ana");
    Reply other = send("/v1/tasks", OPS, "{\"type\": \"quick\", \"priority\": \"critical\", \"phases\": [{\"millis\": 1}]}");
    assertThat(other.status()).as(other.body()).isEqualTo(200);
    assertThat(running.get().status()).isEqualTo(200);
    Reply again = send("/v1/tasks", ANA, "{\"type\": \"slow\", \"phases\": [{\"millis\": 1}]}");
    assertThat(again.status()).as("the slot is free again: " + again.body()).isEqualTo(200);
  }

  @Test
  void badQuotaConfigurationIsRefusedNamingTheEntry() {
    assertThatThrownBy(() -> TestServers.config(Map.of("PENUMBRA_AUTH_TOKENS", "ana:standard:" + ANA,
        "PENUMBRA_AUTH_QUOTAS", "bob:cpu=1"))).hasMessageContaining("auth.quotas").hasMessageContaining("bob");
    assertThatThrownBy(() -> TestServers.config(Map.of("PENUMBRA_AUTH_TOKENS", "ana:standard:" + ANA,
        "PENUMBRA_AUTH_QUOTAS", "ana:cpu=lots"))).hasMessageContaining("cpu = 'lots'");
    assertThatThrownBy(() -> TestServers.config(Map.of("PENUMBRA_AUTH_TOKENS", "ana:standard:" + ANA,
        "PENUMBRA_AUTH_QUOTAS", "ana:inFlight=0"))).hasMessageContaining("inFlight");
    assertThatThrownBy(() -> TestServers.config(Map.of("PENUMBRA_AUTH_QUOTAS", "ana:cpu=1")))
        .hasMessageContaining("auth.tokens");
  }
}
