package dev.penumbra.server;

import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The streams a server accepted, kept in {@code streams.json} under {@code server.dataDir} (docs/server.md,
 * "Persistence") so a restart — also after {@code kill -9} — comes back with every one of them: rewritten atomically
 * on every create and delete, before the client is answered. A file that cannot be read, of another format version,
 * or with a definition the API would refuse, stops the start with a message naming the file, the field and the value;
 * nothing is overwritten then, so no other saved state is lost.
 */
final class StreamStore {
  static final String FILE = "streams.json";

  /** One accepted stream: what {@code POST /v1/streams} was given (checked), and when it was created. */
  record Definition(String name, int partitions, double sampleRate, long created) {}

  /** A definition as the file holds it, before it is checked. */
  private record Saved(String name, Integer partitions, Double sampleRate, Long created) {}

  private final Path dir;

  private StreamStore(Path dir) {
    this.dir = dir;
  }

  /** The store of {@code config}'s data directory, or null when none is configured. */
  static StreamStore of(ServerConfig config) {
    return config.server().dataDirPath().map(StreamStore::new).orElse(null);
  }

  /**
   * The definitions saved by an earlier run (none when there is no file), each checked as the API checks a new
   * stream, names unique, at most {@code maxStreams}.
   *
   * @throws IllegalStateException naming the file, the field and its value when one is not acceptable
   */
  List<Definition> load(int maxStreams) {
    JsonNode root;
    try {
      root = DataDir.read(dir, dir.resolve(FILE), ". It holds the streams clients created: starting without it "
          + "would drop them. Restore it from a backup, or move it away to start without the saved streams");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir.resolve(FILE) + ": " + e.getMessage(), e);
    }
    if (root == null) {
      return List.of();
    }
    JsonNode streams = root.get("streams");
    if (streams == null || !streams.isArray()) {
      throw refused("streams", String.valueOf(streams), "must be a list of streams");
    }
    if (streams.size() > maxStreams) {
      throw refused("streams", streams.size() + " streams", "holds more than stream.maxStreams = " + maxStreams
          + " (raise it)");
    }
    List<Definition> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < streams.size(); i++) {
      String at = "streams[" + i + "]";
      Saved s;
      try {
        s = Json.MAPPER.treeToValue(streams.get(i), Saved.class);
      } catch (JsonMappingException e) {
        String field = Json.path(e);
        throw refused(at + (field.isEmpty() ? "" : "." + field), String.valueOf(streams.get(i)),
            e.getOriginalMessage().lines().findFirst().orElse("not a stream"));
      } catch (IOException e) {
        throw refused(at, String.valueOf(streams.get(i)), "not a stream");
      }
      if (s == null) {
        throw refused(at, "null", "must be a stream");
      }
      if (s.partitions() == null || s.sampleRate() == null) {
        throw refused(at + "." + (s.partitions() == null ? "partitions" : "sampleRate"), "null", "is missing");
      }
      StreamRoutes.NewStream checked;
      try {
        checked = StreamRoutes.check(new StreamRoutes.CreateBody(s.name(), java.math.BigInteger.valueOf(s.partitions()), s.sampleRate()));
      } catch (ApiException e) {
        throw refused(at + "." + e.field(), e.value(), e.getMessage());
      }
      if (s.created() == null || s.created() < 0) {
        throw refused(at + ".created", String.valueOf(s.created()), "must be a time in epoch milliseconds");
      }
      if (!names.add(checked.name())) {
        throw refused(at + ".name", checked.name(), "names a stream defined twice");
      }
      out.add(new Definition(checked.name(), checked.partitions(), checked.sampleRate(), s.created()));
    }
    return List.copyOf(out);
  }

  private IllegalStateException refused(String field, String value, String why) {
    return new IllegalStateException("data directory " + dir + ": " + FILE + ": " + field + " = " + value + ": " + why
        + "; fix it, or move the file away to start without the saved streams");
  }

  /** Replaces the saved definitions (atomically: a reader sees the old file or the new one). */
  void save(List<Definition> definitions) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("formatVersion", DataDir.FORMAT_VERSION);
    ArrayNode arr = n.putArray("streams");
    for (Definition d : definitions) {
      arr.add(Json.MAPPER.valueToTree(d));
    }
    DataDir.writeAtomically(dir.resolve(FILE), n.toPrettyString());
  }
}
