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
 * What the server keeps across restarts, under {@code server.dataDir} (docs/server.md, "Persistence"): today the
 * reservation id high-water mark, so ids never repeat after a restart or a SIGKILL (a client holding an old id
 * must not release someone else's reservation). Ids are handed out in blocks: the file always records an id no
 * run has used yet, written before any id of the block is given out, so no write happens per reservation.
 *
 * <p>Writes are atomic (a temporary file, fsync, rename over the old one); the file carries a format version
 * and an unknown one is refused, not guessed at; leftover temporary files of a killed run are removed at open.
 * One server at a time: the directory is locked while open.
 */
final class DataDir implements AutoCloseable {
  static final int FORMAT_VERSION = 1;
  static final long BLOCK = 1000;
  private static final String STATE = "state.json";

  private final Path dir;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final long firstId;
  /** Ids below this may have been handed out; the file says so. */
  private long reservedUpTo;

  private DataDir(Path dir, FileChannel lockChannel, FileLock lock, long firstId) {
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
      Path state = dir.resolve(STATE);
      if (Files.exists(state)) {
        JsonNode n = Json.MAPPER.readTree(Files.readString(state));
        int version = n.path("formatVersion").asInt(-1);
        if (version != FORMAT_VERSION) {
          lock.release();
          ch.close();
          throw new IllegalStateException("data directory " + dir + ": " + STATE + " has format version " + version
              + ", this server reads version " + FORMAT_VERSION);
        }
        first = Math.max(1, n.path("nextReservationId").asLong(1));
      }
      DataDir d = new DataDir(dir, ch, lock, first);
      d.reserveIdsUpTo(first + BLOCK);
      return d;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open data directory " + dir + ": " + e.getMessage(), e);
    }
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
