package dev.penumbra.eval.trace;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Reads usage traces from files into regularly sampled {@link Trace}s: NAB, Bitbrains, Alibaba 2018
 * machine usage, Alibaba GenAI 2026 pod memory and generic time-series CSV (e.g. a Prometheus or CloudWatch
 * export). Each file's format is detected from its first line; {@code .tar.gz}/{@code .tgz} archives and
 * {@code .gz} files are read as streams. Irregular, unsorted, duplicated and gappy samples are resampled by
 * the rules in {@link Samples}; malformed content fails the whole file with a {@link TraceFormatException}
 * naming the file, the line and the offending value. The full rules are in {@code docs/traces.md}.
 */
public final class TraceReaders {

  /** Runs of at most this many empty intervals are interpolated linearly; longer ones carry the last value. */
  public static final int MAX_INTERPOLATED_GAP = 12;

  /** The format names {@link #read(Path, String)} accepts ("auto" detects, like {@link #read(Path)}). */
  public static final List<String> FORMATS = TraceFormat.names();

  private TraceReaders() {}

  /** Reads every series in a file or directory (recursively), detecting each file's format. */
  public static List<Trace> read(Path path) throws IOException {
    return read(path, "auto");
  }

  /**
   * Same with an explicit format name ("nab", "bitbrains", "alibaba2018", "genai2026", "csv"; "auto" detects).
   * In a directory, files ending in .csv, .tsv, .txt, .gz or .tgz are read (hidden files and others, such as
   * README or JSON files, are skipped), in path order.
   *
   * @throws IllegalArgumentException if {@code format} is not one of these names
   * @throws TraceFormatException if a file is empty, unrecognised or malformed, or a directory holds no trace file
   */
  public static List<Trace> read(Path path, String format) throws IOException {
    TraceFormat forced = "auto".equalsIgnoreCase(format == null ? "" : format.trim()) ? null : TraceFormat.of(format);
    List<Trace> traces = new ArrayList<>();
    if (Files.isDirectory(path)) {
      List<Path> files;
      try (Stream<Path> walk = Files.walk(path)) {
        files = walk.filter(Files::isRegularFile).filter(TraceReaders::looksLikeTraceFile).sorted().toList();
      }
      String root = path.toAbsolutePath().normalize().getFileName() == null
          ? "" : path.toAbsolutePath().normalize().getFileName() + "/";
      if (files.isEmpty()) {
        throw new TraceFormatException(path.toString(), 0,
            "directory holds no trace file (.csv, .tsv, .txt, .gz, .tgz)", null);
      }
      for (Path file : files) {
        String rel = path.relativize(file).toString().replace('\\', '/');
        readFile(file, root + rel, forced, traces);
      }
    } else {
      if (!Files.isRegularFile(path)) {
        throw new NoSuchFileException(path.toString(), null, "no such trace file or directory");
      }
      readFile(path, path.getFileName().toString(), forced, traces);
    }
    return traces;
  }

  private static boolean looksLikeTraceFile(Path p) {
    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
    return !n.startsWith(".")
        && (n.endsWith(".csv") || n.endsWith(".tsv") || n.endsWith(".txt") || n.endsWith(".gz") || n.endsWith(".tgz"));
  }

  private static void readFile(Path file, String name, TraceFormat forced, List<Trace> out) throws IOException {
    String lower = name.toLowerCase(Locale.ROOT);
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      if (lower.endsWith(".tar.gz") || lower.endsWith(".tgz")) {
        readArchive(new TarArchiveInputStream(new GZIPInputStream(raw, 1 << 16)), name, forced, out);
      } else if (lower.endsWith(".gz")) {
        readStream(new GZIPInputStream(raw, 1 << 16), name, forced, out);
      } else {
        readStream(raw, name, forced, out);
      }
    }
  }

  private static void readArchive(TarArchiveInputStream tar, String name, TraceFormat forced, List<Trace> out)
      throws IOException {
    int files = 0;
    TarArchiveEntry entry;
    while ((entry = tar.getNextEntry()) != null) {
      String entryName = entry.getName();
      String base = entryName.substring(entryName.lastIndexOf('/') + 1);
      // "._x" entries are macOS resource forks that tar on macOS adds beside each file.
      if (!entry.isFile() || base.startsWith(".")) {
        continue;
      }
      files++;
      readStream(new FilterInputStream(tar) {
        @Override
        public void close() {
          // the archive stays open for its next entry
        }
      }, name + "!" + entryName, forced, out);
    }
    if (files == 0) {
      throw new TraceFormatException(name, 0, "archive holds no files", null);
    }
  }

  private static void readStream(InputStream in, String name, TraceFormat forced, List<Trace> out)
      throws IOException {
    Lines lines = new Lines(name, new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16));
    String header = lines.nextNonBlank();
    if (header == null) {
      throw lines.fileError("empty file (no header and no rows)");
    }
    TraceFormat format = forced != null ? forced : TraceFormat.detect(header, lines);
    out.addAll(format.parse(lines, header));
  }
}
