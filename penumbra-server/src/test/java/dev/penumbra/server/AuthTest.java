package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.server.TestServers.Reply;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bearer tokens name a principal and its highest priority; only the owner or an admin releases a hold. */
class AuthTest {
  static final String ANA = "ana-token-0123456789";
  static final String BOB = "bob-token-0123456789";
  static final String OPS = "ops-token-0123456789";
  static PenumbraServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServers.started(Map.of("PENUMBRA_QUERY_ENABLED", "false", "PENUMBRA_TASK_ENABLED", "false",
        "PENUMBRA_STREAM_INTERVAL", "1m",
        "PENUMBRA_AUTH_TOKENS", "ana:standard:" + ANA + ", bob:batch:" + BOB + ", ops:admin:" + OPS));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static Reply send(String method, String path, String token, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path))
        .header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return TestServers.send(b.build());
  }

  static final String HOLD = "{\"cpu\": \"100m\", \"memory\": \"16MiB\", \"leaseSeconds\": 60}";

  @Test
  void writesNeedAKnownTokenWhichIsNeverEchoed() throws Exception {
    Reply none = send("POST", "/v1/reservations", null, HOLD);
    assertThat(none.status()).as(none.body()).isEqualTo(401);
    assertThat(none.json().get("field").asText()).isEqualTo("Authorization");
    Reply wrong = send("POST", "/v1/reservations", "guess-0123456789abcdef", HOLD);
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(wrong.body()).doesNotContain("guess-0123456789abcdef");
    // Reads stay open (the dashboard).
    assertThat(TestServers.get(server, "/v1/nodes").status()).isEqualTo(200);
    assertThat(server.ledger().snapshot().reservations()).isEmpty();
  }

  @Test
  void aPrincipalOwnsWhatItReservesUpToItsPriority() throws Exception {
    Reply tooHigh = send("POST", "/v1/reservations", ANA, HOLD.replace("}", ", \"priority\": \"critical\"}"));
    assertThat(tooHigh.status()).as(tooHigh.body()).isEqualTo(403);
    assertThat(tooHigh.json().get("field").asText()).isEqualTo("priority");
    Reply someoneElse = send("POST", "/v1/reservations", ANA, HOLD.replace("{", "{\"owner\": \"bob\", "));
    assertThat(someoneElse.status()).as(someoneElse.body()).isEqualTo(403);
    assertThat(someoneElse.json().get("field").asText()).isEqualTo("owner");

    Reply mine = send("POST", "/v1/reservations", ANA, HOLD);
    assertThat(mine.status()).as(mine.body()).isEqualTo(201);
    assertThat(mine.json().get("owner").asText()).isEqualTo("ana");
    long id = mine.json().get("id").asLong();
    Reply stolen = send("DELETE", "/v1/reservations/" + id, BOB, null);
    assertThat(stolen.status()).as(stolen.body()).isEqualTo(403);
    assertThat(server.ledger().get(id).orElseThrow().isLive()).isTrue();
    assertThat(send("DELETE", "/v1/reservations/" + id, ANA, null).status()).isEqualTo(200);

    long other = send("POST", "/v1/reservations", ANA, HOLD).json().get("id").asLong();
    assertThat(send("DELETE", "/v1/reservations/" + other, OPS, null).status()).as("admin").isEqualTo(200);
  }

  @Test
  void aCapabilitysReservationIsNotReleasedOverHttpExceptByAnAdmin() throws Exception {
    assertThat(send("POST", "/v1/streams", ANA, "{\"name\": \"s1\", \"partitions\": 2}").status()).isEqualTo(201);
    ((StreamCapability) server.capability("stream").orElseThrow()).tickAll();
    long id = server.ledger().snapshot().reservations().stream().filter(r -> r.owner().startsWith("stream/"))
        .findFirst().orElseThrow().id();
    Reply r = send("DELETE", "/v1/reservations/" + id, ANA, null);
    assertThat(r.status()).as(r.body()).isEqualTo(403);
    assertThat(server.ledger().get(id).orElseThrow().isLive()).isTrue();
    assertThat(send("DELETE", "/v1/streams/s1", ANA, null).status()).isEqualTo(200);
  }

  @Test
  void aNonLoopbackBindNeedsTokensAndBadTokensAreNamedNotShown() {
    assertThatThrownBy(() -> ServerConfig.load(null, Map.of("PENUMBRA_SERVER_HOST", "0.0.0.0")))
        .isInstanceOf(ServerConfig.ConfigException.class).hasMessageContaining("server.host")
        .hasMessageContaining("auth.tokens");
    assertThat(ServerConfig.load(null, Map.of("PENUMBRA_SERVER_HOST", "0.0.0.0",
        "PENUMBRA_AUTH_TOKENS", "ops:admin:" + OPS)).auth().enabled()).isTrue();
    assertThatThrownBy(() -> ServerConfig.load(null, Map.of("PENUMBRA_AUTH_TOKENS", "ana:root:" + ANA)))
        .hasMessageContaining("level").hasMessageNotContaining(ANA);
    assertThatThrownBy(() -> ServerConfig.load(null, Map.of("PENUMBRA_AUTH_TOKENS", "ana:standard:short")))
        .hasMessageContaining("16 characters").hasMessageNotContaining("short'");
  }
}
