package dev.penumbra.failover;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Reads Backblaze's daily SMART files ({@code YYYY-MM-DD.csv} or {@code .csv.gz}, one row per drive) into
 * {@link SmartRecord}s. Columns are found by header name; a malformed value fails with the file, line and column.
 */
public final class BackblazeData {

  private static final String[] COLUMNS = {
    "date", "serial_number", "model", "failure", "smart_5_raw", "smart_187_raw", "smart_188_raw", "smart_197_raw",
    "smart_198_raw", "smart_9_raw"
  };

  private BackblazeData() {}

  /** The daily files of a folder, in date order (by file name). */
  public static List<Path> dailyFiles(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("Backblaze data folder '" + dir + "' is not a directory");
    }
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> {
        String n = p.getFileName().toString();
        return n.matches("\\d{4}-\\d{2}-\\d{2}\\.csv(\\.gz)?");
      }).sorted().toList();
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException(
          "Backblaze data folder '" + dir + "' holds no daily file named YYYY-MM-DD.csv or YYYY-MM-DD.csv.gz");
    }
    return files;
  }

  /** Every record of every daily file of a folder, in file order. */
  public static List<SmartRecord> readDir(Path dir) throws IOException {
    List<SmartRecord> all = new ArrayList<>();
    for (Path f : dailyFiles(dir)) {
      all.addAll(readFile(f));
    }
    return all;
  }

  /** The records of one daily file. */
  public static List<SmartRecord> readFile(Path file) throws IOException {
    try (InputStream raw = Files.newInputStream(file);
        InputStream in = file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16)) {
      String header = r.readLine();
      if (header == null) {
        throw new IllegalArgumentException("Backblaze file '" + file + "' is empty (no header line)");
      }
      List<String> names = Arrays.asList(header.split(",", -1));
      int[] idx = new int[COLUMNS.length];
      for (int i = 0; i < COLUMNS.length; i++) {
        idx[i] = names.indexOf(COLUMNS[i]);
        if (idx[i] < 0) {
          throw new IllegalArgumentException("Backblaze file '" + file + "' has no column '" + COLUMNS[i] + "'");
        }
      }
      List<SmartRecord> out = new ArrayList<>();
      String line;
      int lineNo = 1;
      while ((line = r.readLine()) != null) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        String[] f = line.split(",", -1);
        if (f.length < names.size()) {
          throw new IllegalArgumentException("Backblaze file '" + file + "' line " + lineNo + " has " + f.length
              + " fields, the header has " + names.size());
        }
        LocalDate date;
        try {
          date = LocalDate.parse(f[idx[0]]);
        } catch (DateTimeParseException e) {
          throw new IllegalArgumentException("Backblaze file '" + file + "' line " + lineNo + " column 'date': '"
              + f[idx[0]] + "' is not a date YYYY-MM-DD");
        }
        String failure = f[idx[3]];
        if (!failure.equals("0") && !failure.equals("1")) {
          throw new IllegalArgumentException("Backblaze file '" + file + "' line " + lineNo
              + " column 'failure': '" + failure + "' is not 0 or 1");
        }
        double[] v = new double[6];
        for (int i = 0; i < 6; i++) {
          v[i] = number(f[idx[4 + i]], file, lineNo, COLUMNS[4 + i]);
        }
        out.add(new SmartRecord(date, f[idx[1]], f[idx[2]], failure.equals("1"), v[0], v[1], v[2], v[3], v[4],
            v[5]));
      }
      return out;
    }
  }

  private static double number(String text, Path file, int line, String column) {
    if (text.isEmpty()) {
      return Double.NaN;
    }
    try {
      double d = Double.parseDouble(text);
      if (!Double.isFinite(d) || d < 0) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("Backblaze file '" + file + "' line " + line + " column '" + column + "': '"
          + text + "' is not a non-negative number");
    }
  }
}
