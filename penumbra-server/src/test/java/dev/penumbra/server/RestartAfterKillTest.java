package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.penumbra.server.TestServers.Reply;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A server killed with SIGKILL and started again on the same data directory. */
class RestartAfterKillTest {

  static Reply postTo(int port, String path, String body) throws Exception {
    return TestServers.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  static List<Path> tempDirsOf(long pid) throws Exception {
    try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return s.filter(p -> p.getFileName().toString().matches("penumbra-(duckdb|shadow)-" + pid + "-.*")).toList();
    }
  }

  static com.fasterxml.jackson.databind.JsonNode file(Path p) {
    try {
      return Files.exists(p) ? Json.MAPPER.readTree(Files.readString(p)) : Json.MAPPER.createObjectNode();
    } catch (java.io.IOException e) {
      return Json.MAPPER.createObjectNode(); // being replaced right now: look again
    }
  }

  static com.fasterxml.jackson.databind.JsonNode errorsNow(int port) throws Exception {
    return TestServers.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/errors")).GET()
        .build()).json();
  }

  static long scored(com.fasterxml.jackson.databind.JsonNode errors, String capability, String model) {
    for (com.fasterxml.jackson.databind.JsonNode m : errors.path(capability)) {
      if (m.path("model").asText().equals(model)) {
        return m.path("total").asLong();
      }
    }
    return 0;
  }

  @Test
  void idsNeverRepeatAndTheKilledRunsTempFilesAreRemoved(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    Path portFile = dir.resolve("port");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        KilledServerMain.class.getName(), data.toString(), portFile.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
    List<Long> ids = new ArrayList<>();
    List<com.fasterxml.jackson.databind.JsonNode> holds = new ArrayList<>();
    com.fasterxml.jackson.databind.JsonNode errorsBefore = null;
    String lastTier = null;
    JsonNode streamBefore = null;
    long streamHistoryBefore = 0;
    long pid = child.pid();
    try {
      await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(portFile) || !child.isAlive());
      assertThat(child.isAlive()).as("child server started; log: %s", dir.resolve("child.log")).isTrue();
      int port = Integer.parseInt(Files.readString(portFile).strip());
      for (int i = 0; i < 3; i++) {
        Reply r = postTo(port, "/v1/reservations", "{\"owner\": \"old\", \"memory\": \"16MiB\", \"leaseSeconds\": 600}");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        ids.add(r.json().get("id").asLong());
        holds.add(r.json());
      }
      Reply released = TestServers.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/v1/reservations/" + ids.get(2))).DELETE().build());
      assertThat(released.status()).as(released.body()).isEqualTo(200);
      holds.remove(2);
      // Learning: one query shape run until the history tier answers it, and tasks of one type.
      for (int i = 0; i < 6; i++) {
        Reply q = postTo(port, "/v1/queries", "{\"sql\": \"SELECT count(*) FROM orders WHERE o_totalprice > " + (1000 * i)
            + "\"}");
        assertThat(q.status()).as(q.body()).isEqualTo(200);
        lastTier = q.json().get("report").get("prediction").get("tier").asText();
      }
      for (int i = 0; i < 3; i++) {
        Reply t = postTo(port, "/v1/tasks", "{\"type\": \"etl\", \"phases\": [{\"millis\": 20, \"memory\": \"4MiB\"}]}");
        assertThat(t.status()).as(t.body()).isEqualTo(200);
      }
      assertThat(scored(errorsNow(port), "query", "query/memory")).isEqualTo(6);
      // Streams: one fed until its planner has a history of its own, one deleted again.
      Reply created = postTo(port, "/v1/streams", "{\"name\": \"orders\", \"partitions\": 2, \"sampleRate\": 0.5}");
      assertThat(created.status()).as(created.body()).isEqualTo(201);
      streamBefore = created.json();
      assertThat(postTo(port, "/v1/streams", "{\"name\": \"gone\"}").status()).isEqualTo(201);
      assertThat(TestServers.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/streams/gone"))
          .DELETE().build()).status()).isEqualTo(200);
      StringBuilder batch = new StringBuilder("{\"records\": [");
      for (int i = 0; i < 200; i++) {
        batch.append(i == 0 ? "" : ",").append("{\"key\": \"k").append(i).append("\", \"value\": \"v").append(i)
            .append("\"}");
      }
      String records = batch.append("]}").toString();
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        assertThat(postTo(port, "/v1/streams/orders/records", records).status()).isEqualTo(202);
        JsonNode saved = file(data.resolve("learned-stream.json")).path("state").path("history").path("orders");
        assertThat(saved.path("0").path("rate").size()).as("observations saved").isGreaterThanOrEqualTo(30);
      });
      // What was learned reaches the disk within the save period; then the process dies without warning.
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        String log = Files.readString(dir.resolve("child.log"));
        String tail = log.substring(Math.max(0, log.length() - 3000));
        assertThat(file(data.resolve("holds.json")).path("holds").size()).as("holds; log: %s", tail).isEqualTo(2);
        assertThat(file(data.resolve("learned-query.json")).path("state").path("history").size()).as("history; log: %s",
            tail).isEqualTo(6);
        com.fasterxml.jackson.databind.JsonNode task = file(data.resolve("learned-task.json")).path("state");
        assertThat(task.path("profiles").path(0).path("tasks").asInt()).as("tasks learned").isEqualTo(3);
        long memoryScores = 0;
        for (com.fasterxml.jackson.databind.JsonNode m : task.path("errors")) {
          memoryScores += m.path("model").asText().equals("task:etl/memory") ? m.path("total").asLong() : 0;
        }
        assertThat(memoryScores).as("task scores saved").isEqualTo(scored(errorsNow(port), "task", "task:etl/memory"));
      });
      errorsBefore = errorsNow(port);
      streamHistoryBefore = file(data.resolve("learned-stream.json")).path("state").path("history").path("orders")
          .path("0").path("t0").asLong();
      // Accepted just before the kill: on disk before the 201, so it comes back too.
      assertThat(postTo(port, "/v1/streams", "{\"name\": \"late\"}").status()).isEqualTo(201);
      assertThat(tempDirsOf(pid)).as("the engine's spill directories while it runs").isNotEmpty();
    } finally {
      child.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
      child.waitFor();
    }
    assertThat(Files.exists(data.resolve("lock"))).isTrue();

    long restartedAt = System.currentTimeMillis();
    ServerConfig config = TestServers.config(Map.of("PENUMBRA_SERVER_DATA_DIR", data.toString(),
        "PENUMBRA_STREAM_ENABLED", "true", "PENUMBRA_STREAM_INTERVAL", "100ms", "PENUMBRA_TASK_ENABLED", "true"));
    try (PenumbraServer again = PenumbraServer.builder(config).build().start()) {
      assertThat(tempDirsOf(pid)).as("left by the killed run, removed at start").isEmpty();
      assertThat(again.awaitReady(Duration.ofMinutes(2))).isTrue();
      // Every stream accepted came back (the deleted one did not), with its definition, and its planner has the
      // killed run's observations: it forecasts from them, not from a cold start.
      JsonNode listed = TestServers.get(again, "/v1/streams").json();
      assertThat(listed.findValuesAsText("name")).containsExactly("orders", "late");
      for (String f : List.of("partitions", "sampleRate", "created")) {
        assertThat(listed.get(0).get(f)).as(f).isEqualTo(streamBefore.get(f));
      }
      StreamHandle orders = ((StreamCapability) again.capability("stream").orElseThrow()).find("orders");
      for (int p = 0; p < 2; p++) {
        List<dev.penumbra.stream.StreamPlanner.Observation> h = orders.controller.planner().history(p);
        assertThat(h.get(0).timeMillis()).as("partition %d's oldest observation is the killed run's", p)
            .isBetween(streamHistoryBefore, restartedAt);
        assertThat(h.size()).isGreaterThanOrEqualTo(30);
      }
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        JsonNode plan = TestServers.get(again, "/v1/streams/orders/plan").json().path("partitions").path(0);
        assertThat(plan.path("model").asText()).as("model of %s", plan).isNotEmpty().doesNotStartWith("borrowed")
            .isNotEqualTo("none");
      });
      // The holds came back with their ids, owners, amounts and leases; the released one did not.
      for (com.fasterxml.jackson.databind.JsonNode h : holds) {
        Reply back = TestServers.get(again, "/v1/reservations/" + h.get("id").asLong());
        assertThat(back.status()).as(back.body()).isEqualTo(200);
        for (String f : List.of("owner", "amount", "priority", "state", "created", "leaseExpiry")) {
          assertThat(back.json().get(f)).as(f).isEqualTo(h.get(f));
        }
      }
      assertThat(again.ledger().snapshot().reservations()).filteredOn(r -> !r.owner().startsWith("stream/"))
          .as("the holds; the restored streams' partitions reserve anew").hasSize(2);
      // Error statistics came back: the same counts per model.
      com.fasterxml.jackson.databind.JsonNode errorsAfter = TestServers.get(again, "/v1/errors").json();
      assertThat(scored(errorsAfter, "query", "query/memory")).isEqualTo(6);
      assertThat(errorsAfter.get("task")).isEqualTo(errorsBefore.get("task"));
      // The query history came back: the shape is answered from its history at once, as before the kill.
      assertThat(lastTier).isEqualTo("history");
      Reply q = postTo(again.port(), "/v1/queries", "{\"sql\": \"SELECT count(*) FROM orders WHERE o_totalprice > 7000\"}");
      assertThat(q.status()).as(q.body()).isEqualTo(200);
      assertThat(q.json().get("report").get("prediction").get("tier").asText()).isEqualTo("history");
      // The task profile came back: 3 tasks of type etl learned.
      com.fasterxml.jackson.databind.JsonNode task = again.capability("task").orElseThrow().learning().learned().orElseThrow();
      assertThat(task.get("profiles").get(0).get("type").asText()).isEqualTo("etl");
      assertThat(task.get("profiles").get(0).get("tasks").asInt()).isEqualTo(3);
      Reply r = postTo(again.port(), "/v1/reservations", "{\"owner\": \"new\", \"memory\": \"16MiB\"}");
      assertThat(r.status()).as(r.body()).isEqualTo(201);
      long fresh = r.json().get("id").asLong();
      assertThat(fresh).as("a new id, never one of %s", ids).isGreaterThan(ids.stream().max(Long::compare).orElseThrow());
      // An id of the killed run that had ended names nothing now, and above all not the new client's reservation.
      Reply old = TestServers.delete(again, "/v1/reservations/" + ids.get(2));
      assertThat(old.status()).as(old.body()).isEqualTo(404);
      assertThat(again.ledger().get(fresh).orElseThrow().isLive()).isTrue();
    }
  }

  @Test
  void aFileOfANewerFormatIsRefusedNamingItAndNothingIsOverwritten(@TempDir Path dir) throws Exception {
    // Files of what clients were given; a learned file of another version is set aside instead (DataDirRecoveryTest).
    for (String name : List.of("holds.json", "state.json")) {
      Path d = dir.resolve(name);
      Files.createDirectories(d);
      Files.writeString(d.resolve(name), "{\"formatVersion\": 2, \"holds\": []}");
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> DataDir.open(d))
          .hasMessageContaining(name).hasMessageContaining("format version 2").hasMessageContaining("newer");
      assertThat(Files.readString(d.resolve(name))).contains("\"formatVersion\": 2");
      // The lock was let go: a fixed directory opens.
      Files.delete(d.resolve(name));
      DataDir.open(d).close();
    }
  }

  @Test
  void anUnknownFormatVersionIsRefusedNotGuessed(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("state.json"), "{\"formatVersion\": 99, \"nextReservationId\": 5}");
    Files.writeString(dir.resolve("state.json.tmp"), "half-written");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> DataDir.open(dir))
        .hasMessageContaining("format version 99");
    Files.writeString(dir.resolve("state.json"), "{\"formatVersion\": 1, \"nextReservationId\": 5000}");
    try (DataDir d = DataDir.open(dir)) {
      assertThat(d.firstId()).isEqualTo(5000);
      assertThat(Files.exists(dir.resolve("state.json.tmp"))).as("leftover of a killed write").isFalse();
      assertThat(Files.readString(dir.resolve("state.json"))).contains("6000");
    }
  }
}
