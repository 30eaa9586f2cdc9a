package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every file of the data directory, damaged four ways (cut in half, zero length, garbage bytes, another format
 * version). What was learned is set aside (renamed, kept) and the start goes on without it; what clients were given
 * (the id counter, the holds, the streams) stops the start naming the file and the reason, and nothing is touched.
 */
class DataDirRecoveryTest {
  /** A valid file of each kind, as this server writes it. */
  static final Map<String, String> VALID = Map.of(
      "state.json", "{\"formatVersion\": 1, \"nextReservationId\": 5000}",
      "holds.json", "{\"formatVersion\": 1, \"holds\": []}",
      "streams.json", "{\"formatVersion\": 1, \"streams\": [{\"name\": \"s\", \"partitions\": 2, \"sampleRate\": 0.1,"
          + " \"created\": 1000}]}",
      "learned-query.json", "{\"formatVersion\": 1, \"capability\": \"query\", \"state\": {\"errors\": [], "
          + "\"history\": []}}",
      "learned-task.json", "{\"formatVersion\": 1, \"capability\": \"task\", \"state\": {\"errors\": [], "
          + "\"profiles\": []}}",
      "learned-stream.json", "{\"formatVersion\": 1, \"capability\": \"stream\", \"state\": {\"errors\": [], "
          + "\"history\": {}}}",
      "model-query.json", "{\"formatVersion\": 1, \"capability\": \"query\", \"model\": {\"formatVersion\": 1, "
          + "\"name\": \"query-model\"}}");

  static Stream<Arguments> damaged() {
    List<Arguments> out = new ArrayList<>();
    for (String file : new java.util.TreeSet<>(VALID.keySet())) {
      String valid = VALID.get(file);
      out.add(Arguments.of(file, "cut in half", valid.substring(0, valid.length() / 2).getBytes(StandardCharsets.UTF_8),
          "not readable JSON"));
      out.add(Arguments.of(file, "zero length", new byte[0], "is empty (0 bytes)"));
      out.add(Arguments.of(file, "garbage bytes", new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 1, 2, (byte) 0xff},
          "not readable JSON"));
      out.add(Arguments.of(file, "format version 0", valid.replace("\"formatVersion\": 1, \"", "\"formatVersion\": 0, \"")
          .getBytes(StandardCharsets.UTF_8), "format version 0"));
    }
    return out.stream();
  }

  static boolean recoverable(String file) {
    return file.startsWith("learned-") || file.startsWith("model-");
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("damaged")
  void aDamagedFileIsSetAsideWhenItHeldWhatWasLearnedAndStopsTheStartWhenItHeldWhatClientsWereGiven(String file,
      String how, byte[] content, String reason, @TempDir Path dir) throws Exception {
    // The other files valid beside it: only the damaged one's fate changes.
    for (var e : VALID.entrySet()) {
      Files.writeString(dir.resolve(e.getKey()), e.getValue());
    }
    Files.write(dir.resolve(file), content);
    if (file.equals("streams.json")) {
      ServerConfig config = TestServers.config(Map.of("PENUMBRA_SERVER_DATA_DIR", dir.toString()));
      assertThatThrownBy(() -> StreamStore.of(config).load(16)).hasMessageContaining("streams.json")
          .hasMessageContaining(reason).hasMessageContaining("drop them");
      assertThat(Files.readAllBytes(dir.resolve(file))).as("untouched").isEqualTo(content);
      return;
    }
    if (!recoverable(file)) {
      assertThatThrownBy(() -> DataDir.open(dir)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(file).hasMessageContaining(reason)
          .hasMessageContaining(file.equals("state.json") ? "could hand out an id a client still holds" : "drop them");
      assertThat(Files.readAllBytes(dir.resolve(file))).as("untouched").isEqualTo(content);
      DataDir.open(emptied(dir, file)).close(); // the lock was let go
      return;
    }
    try (DataDir d = DataDir.open(dir)) {
      String capability = file.substring(file.indexOf('-') + 1, file.length() - 5);
      assertThat(file.startsWith("model-") ? d.model(capability) : d.learned(capability)).as("started without it")
          .isEmpty();
      assertThat(Files.exists(dir.resolve(file))).as("no longer under its name").isFalse();
      try (Stream<Path> files = Files.list(dir)) {
        Path aside = files.filter(p -> p.getFileName().toString().startsWith(file + ".bad-")).findFirst()
            .orElseThrow(() -> new AssertionError(file + " was not set aside"));
        assertThat(Files.readAllBytes(aside)).as("kept as it was").isEqualTo(content);
      }
      assertThat(d.firstId()).as("the rest read").isEqualTo(5000);
      for (String other : VALID.keySet()) {
        if (recoverable(other) && !other.equals(file)) {
          String c = other.substring(other.indexOf('-') + 1, other.length() - 5);
          assertThat(other.startsWith("model-") ? d.model(c) : d.learned(c)).as(other).isPresent();
        }
      }
    }
  }

  /** An id file that reads but names no usable id is refused too: ids restarting at 1 is what it guards against. */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"{\"formatVersion\": 1}",
      "{\"formatVersion\": 1, \"nextReservationId\": \"5000\"}", "{\"formatVersion\": 1, \"nextReservationId\": 0}",
      "{\"formatVersion\": 1, \"nextReservationId\": 1.5}"})
  void anIdFileWithoutAUsableIdStopsTheStart(String text, @TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("state.json"), text);
    assertThatThrownBy(() -> DataDir.open(dir)).hasMessageContaining("state.json")
        .hasMessageContaining("nextReservationId must be a whole number >= 1");
    assertThat(Files.readString(dir.resolve("state.json"))).isEqualTo(text);
  }

  private static Path emptied(Path dir, String file) throws Exception {
    Files.delete(dir.resolve(file));
    return dir;
  }
}
