package dev.penumbra.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;

/**
 * What the server keeps across restarts, under {@code server.dataDir} (docs/server.md, "Persistence"):
 *
 * <ul>
 *   <li>{@code state.json}: the reservation id high-water mark, so ids never repeat after a restart or a SIGKILL
 *       (a client holding an old id must not release someone else's reservation). Ids are handed out in blocks:
 *       the file always records an id no run has used yet, written before any id of the block is given out.
 *   <li>{@code holds.json}: the live reservations clients took directly ({@code POST /v1/reservations}), rewritten
 *       on every change: their work is outside this process, so they outlive it with their ids and leases.
 *   <li>{@code learned-<capability>.json}: what each capability learned (histories, profiles, error statistics).
 *   <li>{@code model-<capability>.json}: a capability's fitted model, rewritten only when it is retrained.
 *   <li>{@code journal-<capability>.jsonl}: the samples its model learned since ({@link SampleJournal}).
 * </ul>
 *
 * <p>Writes are atomic (a temporary file, fsync, rename over the old one); every file carries a format version,
 * never guessed at; leftover temporary files of a killed run are removed at open. One server at a time: the
 * directory is locked.
 *
 * <p>A file that cannot be read (empty, cut short, not JSON, another format version) is handled by what it holds.
 * What was learned can be learned again: a {@code learned-} or {@code model-} file is renamed aside
 * ({@link #setAside}) with a WARN naming it and the reason, and the start goes on without it (the model re-fed from
 * the saved runs, the rest cold). What clients were given cannot: a bad {@code state.json} (ids could repeat) or
 * {@code holds.json} (their reservations would be dropped) stops the start with a message naming the file, the
 * reason and what to do, and nothing is overwritten.
 */
final class DataDir implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DataDir.class);
  static final int FORMAT_VERSION = 1;
  static final long BLOCK = 1000;
  private static final String STATE = "state.json";
  private static final String HOLDS = "holds.json";
  private static final String LEARNED = "learned-";
  private static final String MODEL = "model-";

  private final Path dir;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final long firstId;
  /** Ids below this may have been handed out; the file says so. */
  private long reservedUpTo;

  /** The files read at open: holds, and learned state by capability name. */
  private final JsonNode holds;
  private final java.util.Map<String, JsonNode> learned;

  private DataDir(Path dir, FileChannel lockChannel, FileLock lock, long firstId, JsonNode holds,
      java.util.Map<String, JsonNode> learned) {
    this.holds = holds;
    this.learned = learned;
    this.dir = dir;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.firstId = firstId;
    this.reservedUpTo = firstId;
  }

  /**
   * Opens (creating) the directory, locks it, removes leftover temporary files and reads the state.
   *
   * @throws IllegalStateException when another server holds it, or its state has an unknown format version
   */
  static DataDir open(Path dir) {
    try {
      Files.createDirectories(dir);
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList()) {
          Files.deleteIfExists(f);
        }
      }
      FileChannel ch = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock = ch.tryLock();
      if (lock == null) {
        ch.close();
        throw new IllegalStateException("data directory " + dir + " is in use by another Penumbra server");
      }
      long first = 1;
      JsonNode holds = null;
      java.util.Map<String, JsonNode> learned = new java.util.TreeMap<>();
      try {
        JsonNode n = read(dir, dir.resolve(STATE), LOST_IDS);
        if (n != null) {
          JsonNode next = n.get("nextReservationId");
          if (next == null || !next.canConvertToExactIntegral() || next.asLong() < 1) {
            throw new IllegalStateException("data directory " + dir + ": " + STATE + ": nextReservationId must be a "
                + "whole number >= 1, was " + next + LOST_IDS);
          }
          first = next.asLong();
        }
        holds = read(dir, dir.resolve(HOLDS), LOST_HOLDS);
        try (Stream<Path> files = Files.list(dir)) {
          for (Path f : files.sorted().toList()) {
            String name = f.getFileName().toString();
            boolean isLearned = name.startsWith(LEARNED) && name.endsWith(".json");
            boolean isModel = name.startsWith(MODEL) && name.endsWith(".json");
            if (!isLearned && !isModel) {
              continue;
            }
            String capability = name.substring((isLearned ? LEARNED : MODEL).length(), name.length() - 5);
            String field = isLearned ? "state" : "model";
            JsonNode content;
            try {
              content = read(dir, f, "");
              if (!content.path(field).isObject()) {
                throw new IllegalStateException("data directory " + dir + ": " + name + ": field '" + field
                    + "' must be an object, was " + cut(content.get(field)));
              }
            } catch (IllegalStateException e) {
              // What was learned can be learned again (a model from the saved runs, a history from new work): the
              // start goes on without the file, which is kept under another name for a person to look at.
              String aside = setAside(f);
              LOG.warn("{}; kept as {}; starting without it ({})", e.getMessage(), aside,
                  isModel ? "the model is fed again from the saved runs" : capability + " starts cold");
              continue;
            }
            learned.put(isLearned ? capability : MODEL + capability, content.path(field));
          }
        }
      } catch (IllegalStateException | IOException e) {
        lock.release();
        ch.close();
        throw e;
      }
      DataDir d = new DataDir(dir, ch, lock, first, holds, learned);
      d.reserveIdsUpTo(first + BLOCK);
      return d;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open data directory " + dir + ": " + e.getMessage(), e);
    }
  }

  /** A file of the directory (null when absent), refused unless it carries this server's format version. */
  static JsonNode read(Path dir, Path file) throws IOException {
    return read(dir, file, "; move it away to start without it");
  }

  /**
   * {@link #read(Path, Path)}, {@code consequence} ending the message of a file that cannot be read: what starting
   * without it would lose and what to do.
   */
  static JsonNode read(Path dir, Path file, String consequence) throws IOException {
    if (!Files.exists(file)) {
      return null;
    }
    String where = "data directory " + dir + ": " + file.getFileName();
    JsonNode n;
    try {
      byte[] bytes = Files.readAllBytes(file);
      if (bytes.length == 0) {
        throw new IllegalStateException(where + " is empty (0 bytes)" + consequence);
      }
      n = Json.MAPPER.readTree(new String(bytes, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException(where + " is not readable JSON ("
          + e.getMessage().lines().findFirst().orElse("") + ")" + consequence, e);
    }
    if (n == null || !n.isObject()) {
      throw new IllegalStateException(where + " is not a JSON object" + consequence);
    }
    int version = n.path("formatVersion").asInt(-1);
    if (version != FORMAT_VERSION) {
      throw new IllegalStateException(where + " has format version " + version + ", this server reads version "
          + FORMAT_VERSION + (version > FORMAT_VERSION
          ? " (written by a newer Penumbra: run that one, or move the file away to start without it)" : consequence));
    }
    return n;
  }

  private static final String LOST_IDS = ". It records the reservation ids handed out before: without it a restart "
      + "could hand out an id a client still holds. Restore it from a backup, or write {\"formatVersion\": 1, "
      + "\"nextReservationId\": N} with N above every id ever handed out";
  private static final String LOST_HOLDS = ". It holds the reservations clients took (POST /v1/reservations): starting "
      + "without it would drop them. Restore it from a backup, or move it away to start without them";

  private static String cut(JsonNode n) {
    String s = String.valueOf(n);
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }

  /**
   * Renames a file that cannot be used to {@code <name>.bad-<UTC time>} beside it (never deleted: a person may want
   * it) and returns the new name; the name of the file itself when even the rename failed.
   */
  static String setAside(Path file) {
    String stamp = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'")
        .withZone(java.time.ZoneOffset.UTC).format(java.time.Instant.now());
    Path target = file.resolveSibling(file.getFileName() + ".bad-" + stamp);
    try {
      Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
      return target.getFileName().toString();
    } catch (IOException e) {
      LOG.warn("cannot rename {} aside: {}", file, e.getMessage());
      return file.getFileName().toString();
    }
  }

  /** Sets a capability's model file aside (its saved model was not used); returns the new name. */
  String setAsideModel(String capability) {
    learned.remove(MODEL + capability);
    Path f = dir.resolve(MODEL + capability + ".json");
    return Files.exists(f) ? setAside(f) : f.getFileName().toString();
  }

  /** Sets a capability's learned-state file aside (it could not be put back); returns the new name. */
  String setAsideLearned(String capability) {
    learned.remove(capability);
    Path f = dir.resolve(LEARNED + capability + ".json");
    return Files.exists(f) ? setAside(f) : f.getFileName().toString();
  }

  /** The direct holds saved by an earlier run (possibly none). */
  java.util.List<ReservationRoutes.Hold> holds() {
    if (holds == null) {
      return java.util.List.of();
    }
    return Json.convert(holds.path("holds"),
        new com.fasterxml.jackson.core.type.TypeReference<java.util.List<ReservationRoutes.Hold>>() {}, HOLDS);
  }

  /** Replaces the saved holds. */
  synchronized void saveHolds(java.util.List<ReservationRoutes.Hold> live) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("formatVersion", FORMAT_VERSION);
    n.set("holds", Json.MAPPER.valueToTree(live));
    writeAtomically(dir.resolve(HOLDS), n.toString());
  }

  /** What a capability learned in an earlier run, if it was saved. */
  java.util.Optional<JsonNode> learned(String capability) {
    return java.util.Optional.ofNullable(learned.get(capability));
  }

  /** Replaces what a capability learned. */
  void saveLearned(String capability, JsonNode state) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("formatVersion", FORMAT_VERSION);
    n.put("capability", capability);
    n.set("state", state);
    writeAtomically(dir.resolve(LEARNED + capability + ".json"), n.toString());
  }

  /** A capability's fitted model saved by an earlier run, if any. */
  java.util.Optional<JsonNode> model(String capability) {
    return java.util.Optional.ofNullable(learned.get(MODEL + capability));
  }

  /** Replaces a capability's saved model ({@code model-<capability>.json}). */
  void saveModel(String capability, JsonNode model) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("formatVersion", FORMAT_VERSION);
    n.put("capability", capability);
    n.set("model", model);
    writeAtomically(dir.resolve(MODEL + capability + ".json"), n.toString());
  }

  /** The first reservation id this run may hand out: above every id any earlier run could have used. */
  long firstId() {
    return firstId;
  }

  /**
   * Called with every id handed out: when the id comes within half a block of what the file covers, the next
   * block is recorded first.
   */
  synchronized void used(long id) {
    if (id >= reservedUpTo - BLOCK / 2) {
      reserveIdsUpTo(id + BLOCK);
    }
  }

  private void reserveIdsUpTo(long next) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("formatVersion", FORMAT_VERSION);
    n.put("nextReservationId", next);
    writeAtomically(dir.resolve(STATE), n.toPrettyString());
    reservedUpTo = next;
  }

  static void writeAtomically(Path target, String text) {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ch.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
      ch.force(true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + tmp + ": " + e.getMessage(), e);
    }
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot replace " + target + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException ignored) {
      // The lock goes with the process anyway.
    }
  }
}
