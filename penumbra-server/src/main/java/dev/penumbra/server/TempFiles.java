package dev.penumbra.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes what killed runs left in the temporary directory. The query engines name their spill and transfer
 * directories {@code penumbra-duckdb-<pid>-*} and {@code penumbra-shadow-<pid>-*}; a directory whose process is
 * gone (a {@code kill -9} never runs the cleanup on close) is deleted at the next start. Directories of live
 * processes, and files of other programs, are left alone.
 */
final class TempFiles {
  private static final Logger LOG = LoggerFactory.getLogger(TempFiles.class);
  private static final Pattern OURS = Pattern.compile("penumbra-(duckdb|shadow)-(\\d+)-.*");

  private TempFiles() {}

  /** Deletes stale directories under java.io.tmpdir; returns how many. */
  static int removeStale() {
    return removeStale(Path.of(System.getProperty("java.io.tmpdir")));
  }

  static int removeStale(Path tmp) {
    int removed = 0;
    try (Stream<Path> entries = Files.list(tmp)) {
      for (Path p : entries.toList()) {
        Matcher m = OURS.matcher(p.getFileName().toString());
        if (!m.matches() || !Files.isDirectory(p)) {
          continue;
        }
        long pid = Long.parseLong(m.group(2));
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          continue;
        }
        if (deleteTree(p)) {
          removed++;
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("could not clean stale temporary files under {}: {}", tmp, e.toString());
    }
    if (removed > 0) {
      LOG.info("removed {} temporary directories left by stopped Penumbra processes", removed);
    }
    return removed;
  }

  private static boolean deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      return false;
    }
    return !Files.exists(dir);
  }
}
