package dev.penumbra.server;

import static dev.penumbra.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.penumbra.core.ledger.Reservation;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Stream and task capabilities at stop and under the demo workload. */
class CapabilityLifecycleTest {

  @Test
  void stopReleasesStreamReservationsAndRefusesProduce() throws Exception {
    PenumbraServer server = TestServers.started(Map.of("PENUMBRA_QUERY_ENABLED", "false",
        "PENUMBRA_STREAM_INTERVAL", "1m",
        "PENUMBRA_LEDGER_CORES", "8"));
    try {
      assertThat(post(server, "/v1/streams", "{\"name\": \"s\", \"partitions\": 2}").status()).isEqualTo(201);
      assertThat(post(server, "/v1/streams/s/records", "{\"records\": [{\"value\": \"a\"}, {\"value\": \"b\"}]}")
          .status()).isEqualTo(202);
      ((StreamCapability) server.capability("stream").orElseThrow()).tickAll();
      assertThat(server.ledger().snapshot().reservations()).extracting(Reservation::owner)
          .contains("stream/s/p0", "stream/s/p1");
      server.stopAdmitting();
      assertThat(post(server, "/v1/streams/s/records", "{\"records\": [{\"value\": \"c\"}]}").status())
          .isEqualTo(503);
      assertThat(post(server, "/v1/tasks", "{\"type\": \"t\", \"phases\": [{\"millis\": 5}]}").status())
          .isEqualTo(503);
      server.stop();
      assertThat(server.ledger().snapshot().reservations()).isEmpty();
    } finally {
      server.close();
    }
  }

  @Test
  void demoExercisesEveryCapabilityWithoutFailures() throws Exception {
    // Four cores: the demo stream's partition, tasks and queries each find one.
    PenumbraServer server = TestServers.started(Map.of("PENUMBRA_DEMO_PAUSE", "50ms",
        "PENUMBRA_STREAM_INTERVAL", "200ms", "PENUMBRA_LEDGER_CORES", "4", "PENUMBRA_FAILOVER_DAY_EVERY", "100ms"));
    DemoWorkload demo;
    try {
      demo = DemoWorkload.start(server, server.config().demo());
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
          .until(() -> demo.stepsByCapability().size() == 5
              && demo.stepsByCapability().values().stream().allMatch(n -> n >= 3));
      // The stream, task and shard timelines have samples once their work ran a tick or two.
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> Stream.of("stream", "task",
          "shard").allMatch(n -> !server.capability(n).orElseThrow().view().timeline().samples().isEmpty()));
      demo.close();
      assertThat(demo.failures()).isZero();
      assertThat(demo.stepsByCapability()).containsOnlyKeys("query", "stream", "task", "shard", "failover");
      assertThat(demo.stepsByCapability().values()).allMatch(n -> n >= 3);
      assertThat(server.capability("stream").orElseThrow().view().timeline().samples()).isNotEmpty();
      assertThat(server.capability("task").orElseThrow().view().timeline().samples()).isNotEmpty();
      assertThat(server.capability("shard").orElseThrow().view().timeline().samples()).isNotEmpty();
    } finally {
      server.stop();
    }
    assertThat(server.ledger().snapshot().reservations()).isEmpty();
  }
}
