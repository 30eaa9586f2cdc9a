package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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

  @Test
  void idsNeverRepeatAndTheKilledRunsTempFilesAreRemoved(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    Path portFile = dir.resolve("port");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        KilledServerMain.class.getName(), data.toString(), portFile.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
    List<Long> ids = new ArrayList<>();
    long pid = child.pid();
    try {
      await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(portFile) || !child.isAlive());
      assertThat(child.isAlive()).as("child server started; log: %s", dir.resolve("child.log")).isTrue();
      int port = Integer.parseInt(Files.readString(portFile).strip());
      for (int i = 0; i < 3; i++) {
        Reply r = postTo(port, "/v1/reservations", "{\"owner\": \"old\", \"memory\": \"16MiB\", \"leaseSeconds\": 600}");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        ids.add(r.json().get("id").asLong());
      }
      assertThat(tempDirsOf(pid)).as("the engine's spill directories while it runs").isNotEmpty();
    } finally {
      child.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
      child.waitFor();
    }
    assertThat(Files.exists(data.resolve("lock"))).isTrue();

    ServerConfig config = TestServers.config(Map.of("PENUMBRA_SERVER_DATA_DIR", data.toString(),
        "PENUMBRA_QUERY_ENABLED", "false", "PENUMBRA_STREAM_ENABLED", "false", "PENUMBRA_TASK_ENABLED", "false"));
    try (PenumbraServer again = PenumbraServer.builder(config).build().start()) {
      assertThat(tempDirsOf(pid)).as("left by the killed run, removed at start").isEmpty();
      Reply r = postTo(again.port(), "/v1/reservations", "{\"owner\": \"new\", \"memory\": \"16MiB\"}");
      assertThat(r.status()).as(r.body()).isEqualTo(201);
      long fresh = r.json().get("id").asLong();
      assertThat(fresh).as("a new id, never one of %s", ids).isGreaterThan(ids.stream().max(Long::compare).orElseThrow());
      // An id of the killed run names nothing now, and above all not the new client's reservation.
      Reply old = TestServers.delete(again, "/v1/reservations/" + ids.get(0));
      assertThat(old.status()).as(old.body()).isEqualTo(404);
      assertThat(again.ledger().get(fresh).orElseThrow().isLive()).isTrue();
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
