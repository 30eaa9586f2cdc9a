package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Stream definitions under server.dataDir: a bad {@code streams.json} stops the start naming the file, the field and
 * the value, overwrites nothing, and once it is fixed everything else saved comes back.
 */
class StreamPersistenceTest {

  static ServerConfig config(Path data) {
    return TestServers.config(Map.of("PENUMBRA_SERVER_DATA_DIR", data.toString(), "PENUMBRA_QUERY_ENABLED", "false",
        "PENUMBRA_TASK_ENABLED", "false", "PENUMBRA_FAILOVER_ENABLED", "false", "PENUMBRA_STREAM_INTERVAL", "100ms"));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "partitions out of range | {\"formatVersion\": 1, \"streams\": [{\"name\": \"a\", \"partitions\": 99, \"sampleRate\": 0.1, \"created\": 1}]} | streams[0].partitions = 99",
      "bad name                | {\"formatVersion\": 1, \"streams\": [{\"name\": \"a b\", \"partitions\": 1, \"sampleRate\": 0.1, \"created\": 1}]} | streams[0].name = a b",
      "text for a number       | {\"formatVersion\": 1, \"streams\": [{\"name\": \"a\", \"partitions\": \"2\", \"sampleRate\": 0.1, \"created\": 1}]} | streams[0].partitions",
      "missing sample rate     | {\"formatVersion\": 1, \"streams\": [{\"name\": \"a\", \"partitions\": 1, \"created\": 1}]} | streams[0].sampleRate = null",
      "unknown field           | {\"formatVersion\": 1, \"streams\": [{\"name\": \"a\", \"partitions\": 1, \"sampleRate\": 0.1, \"created\": 1, \"x\": 1}]} | streams[0].x",
      "a name twice            | {\"formatVersion\": 1, \"streams\": [{\"name\": \"a\", \"partitions\": 1, \"sampleRate\": 0.1, \"created\": 1}, {\"name\": \"a\", \"partitions\": 1, \"sampleRate\": 0.1, \"created\": 1}]} | streams[1].name = a",
      "not a list              | {\"formatVersion\": 1, \"streams\": 3} | streams = 3",
      "newer format            | {\"formatVersion\": 2, \"streams\": []} | format version 2",
      "not JSON                | {\"formatVersion\": 1, \"streams\": [ | not readable JSON"})
  void aBadFileStopsTheStartNamingTheFieldAndLosesNothing(String what, String content, String expected,
      @TempDir Path data) throws Exception {
    // State of an earlier run: a hold and the id high-water mark.
    long heldId;
    try (PenumbraServer s = PenumbraServer.builder(config(data)).build().start()) {
      TestServers.Reply r = TestServers.post(s, "/v1/reservations",
          "{\"owner\": \"ana\", \"memory\": \"16MiB\", \"leaseSeconds\": 600}");
      assertThat(r.status()).as(r.body()).isEqualTo(201);
      heldId = r.json().get("id").asLong();
      // A stop releases live reservations but the saved holds stay as they were at the last change.
    }
    String holds = Files.readString(data.resolve("holds.json"));
    String state = Files.readString(data.resolve("state.json"));
    Files.writeString(data.resolve("streams.json"), content);

    assertThatThrownBy(() -> PenumbraServer.builder(config(data)).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("streams.json").hasMessageContaining(expected);
    assertThat(Files.readString(data.resolve("streams.json"))).isEqualTo(content);
    assertThat(Files.readString(data.resolve("holds.json"))).isEqualTo(holds);
    // The id block may only move up (a refused start still takes one): no id is ever handed out twice.
    assertThat(Json.MAPPER.readTree(Files.readString(data.resolve("state.json"))).get("nextReservationId").asLong())
        .isGreaterThanOrEqualTo(Json.MAPPER.readTree(state).get("nextReservationId").asLong());

    // Moved away, the server starts (the lock was let go) with the rest of its state.
    Files.move(data.resolve("streams.json"), data.resolve("streams.json.bad"));
    try (PenumbraServer s = PenumbraServer.builder(config(data)).build().start()) {
      assertThat(TestServers.get(s, "/v1/streams").json()).isEmpty();
      TestServers.Reply r = TestServers.post(s, "/v1/reservations", "{\"owner\": \"bob\", \"memory\": \"16MiB\"}");
      assertThat(r.json().get("id").asLong()).isGreaterThan(heldId);
    }
  }

  @Test
  void streamsComeBackAfterAStopAndADeletedOneDoesNot(@TempDir Path data) throws Exception {
    try (PenumbraServer s = PenumbraServer.builder(config(data)).build().start()) {
      assertThat(TestServers.post(s, "/v1/streams", "{\"name\": \"a\", \"partitions\": 3, \"sampleRate\": 0.25}")
          .status()).isEqualTo(201);
      assertThat(TestServers.post(s, "/v1/streams", "{\"name\": \"b\"}").status()).isEqualTo(201);
      assertThat(TestServers.post(s, "/v1/streams", "{\"name\": \"c\"}").status()).isEqualTo(201);
      assertThat(TestServers.delete(s, "/v1/streams/b").status()).isEqualTo(200);
    }
    try (PenumbraServer s = PenumbraServer.builder(config(data)).build().start()) {
      var listed = TestServers.get(s, "/v1/streams").json();
      assertThat(listed.findValuesAsText("name")).containsExactly("a", "c");
      assertThat(listed.get(0).get("partitions").asInt()).isEqualTo(3);
      assertThat(listed.get(0).get("sampleRate").asDouble()).isEqualTo(0.25);
      // A restored stream takes records like a new one.
      assertThat(TestServers.post(s, "/v1/streams/a/records", "{\"records\": [{\"value\": \"x\"}]}").status())
          .isEqualTo(202);
      assertThat(TestServers.post(s, "/v1/streams", "{\"name\": \"a\"}").status()).isEqualTo(409);
    }
    assertThat(List.of(Files.readString(data.resolve("streams.json")))).allMatch(t -> t.contains("\"c\""));
  }
}
