package dev.penumbra.server;

import static dev.penumbra.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.ledger.LedgerEvent;
import dev.penumbra.server.TestServers.Reply;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Leases end when their time comes on the server's clock, not when a later request touches the ledger. */
class TimeDrivenLedgerTest {

  @Test
  void aLeaseExpiresOnTimeWithNoRequestTouchingTheLedger() throws Exception {
    ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    ServerConfig config = TestServers.config(Map.of("PENUMBRA_QUERY_ENABLED", "false",
        "PENUMBRA_STREAM_ENABLED", "false", "PENUMBRA_TASK_ENABLED", "false"));
    try (PenumbraServer server = PenumbraServer.builder(config).clock(clock).build().start()) {
      Reply r = post(server, "/v1/reservations",
          "{\"owner\": \"ext\", \"cpu\": \"500m\", \"memory\": \"64MiB\", \"leaseSeconds\": 3}");
      assertThat(r.status()).as(r.body()).isEqualTo(201);
      long id = r.json().get("id").asLong();
      clock.advance(Duration.ofSeconds(3));
      // Only the server's own event log is read: nothing here touches the ledger.
      await().atMost(Duration.ofSeconds(10)).until(() -> server.events().stream()
          .anyMatch(e -> e.type() == LedgerEvent.Type.EXPIRED && e.before().id() == id));
      LedgerEvent expired = server.events().stream().filter(e -> e.type() == LedgerEvent.Type.EXPIRED)
          .findFirst().orElseThrow();
      assertThat(expired.time()).isEqualTo(Instant.parse("2026-01-01T00:00:03Z"));
    }
  }

  @Test
  void aQueryWaitingBehindAFullNodeGetsItsTimeoutAnswerAtItsDeadline() throws Exception {
    try (PenumbraServer server = TestServers.started(Map.of("PENUMBRA_STREAM_ENABLED", "false",
        "PENUMBRA_TASK_ENABLED", "false", "PENUMBRA_QUERY_TIMEOUT", "1s"))) {
      // A query cut off by the engine's timeout is not answered 200 (it was, with the outcome in the body).
      Reply slow = post(server, "/v1/queries", "{\"sql\": \"SELECT count(*) FROM lineitem a, lineitem b"
          + " WHERE a.l_comment < b.l_comment\"}");
      assertThat(slow.status()).as(slow.body()).isEqualTo(504);
      assertThat(slow.json().get("report").get("outcome").asText()).isEqualTo("timed_out");
      assertThat(slow.json().get("error").asText()).startsWith("timed_out");
      Reply hog = post(server, "/v1/reservations",
          "{\"owner\": \"hog\", \"cpu\": \"2\", \"memory\": \"512MiB\", \"priority\": \"critical\","
              + " \"leaseSeconds\": 600}");
      assertThat(hog.status()).as(hog.body()).isEqualTo(201);
      // Before the ledger timer, nothing failed the waiting request until another request arrived: the
      // client's own timeout (generous, far past the 1 s deadline) then ended the wait instead of a 504.
      Reply r = TestServers.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.url() + "/v1/queries"))
          .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
          .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
              "{\"sql\": \"SELECT count(*) FROM nation\", \"priority\": \"batch\", \"deadlineSeconds\": 1}"))
          .build());
      assertThat(r.status()).as(r.body()).isEqualTo(504);
      assertThat(r.json().get("field").asText()).isEqualTo("deadlineSeconds");
    }
  }

  @Test
  void aCriticalQueryGetsThroughAHogHoldingTheWholeNode() throws Exception {
    try (PenumbraServer server = TestServers.started(Map.of("PENUMBRA_STREAM_ENABLED", "false",
        "PENUMBRA_TASK_ENABLED", "false"))) {
      Reply hog = post(server, "/v1/reservations",
          "{\"owner\": \"hog\", \"cpu\": \"2\", \"memory\": \"512MiB\", \"leaseSeconds\": 86400}");
      assertThat(hog.status()).as(hog.body()).isEqualTo(201);
      long id = hog.json().get("id").asLong();
      // Before, the critical query waited out the hog's day-long lease (here: its own 60 s deadline).
      Reply r = post(server, "/v1/queries",
          "{\"sql\": \"SELECT count(*) FROM nation\", \"priority\": \"critical\", \"deadlineSeconds\": 60}");
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      assertThat(TestServers.get(server, "/v1/reservations/" + id).json().get("state").asText()).isEqualTo("released");
      // Standard work gets through a batch hog (strictly lower priority), not through a standard one.
      Reply batchHog = post(server, "/v1/reservations", "{\"owner\": \"hog\", \"cpu\": \"2\", \"memory\": \"512MiB\","
          + " \"priority\": \"batch\", \"leaseSeconds\": 86400}");
      assertThat(batchHog.status()).as(batchHog.body()).isEqualTo(201);
      Reply through = post(server, "/v1/queries",
          "{\"sql\": \"SELECT count(*) FROM nation\", \"priority\": \"standard\", \"deadlineSeconds\": 60}");
      assertThat(through.status()).as(through.body()).isEqualTo(200);
      Reply hog2 = post(server, "/v1/reservations",
          "{\"owner\": \"hog\", \"cpu\": \"2\", \"memory\": \"512MiB\", \"leaseSeconds\": 86400}");
      assertThat(hog2.status()).as(hog2.body()).isEqualTo(201);
      Reply standard = post(server, "/v1/queries",
          "{\"sql\": \"SELECT count(*) FROM nation\", \"priority\": \"standard\", \"deadlineSeconds\": 1}");
      assertThat(standard.status()).as(standard.body()).isEqualTo(504);
    }
  }
}
