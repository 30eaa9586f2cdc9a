package dev.penumbra.cli;

import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.sim.trace.Trace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads {@code timestamp,value} CSV files (a header line, then "yyyy-MM-dd HH:mm:ss,value" rows at a regular
 * step) as CPU traces; a directory yields every {@code .csv} file in it, sorted by name.
 */
final class TraceFiles {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

  private TraceFiles() {}

  static List<Trace> read(Path path) throws IOException {
    if (Files.isDirectory(path)) {
      List<Trace> all = new ArrayList<>();
      try (Stream<Path> files = Files.list(path)) {
        for (Path f : files.filter(f -> f.toString().endsWith(".csv")).sorted().toList()) {
          all.addAll(read(f));
        }
      }
      return all;
    }
    List<String> lines = Files.readAllLines(path);
    List<Double> values = new ArrayList<>();
    long start = 0;
    long second = 0;
    for (int i = 1; i < lines.size(); i++) {
      String line = lines.get(i).trim();
      if (line.isEmpty()) {
        continue;
      }
      int comma = line.indexOf(',');
      if (comma < 0) {
        throw new IllegalArgumentException(path + " line " + (i + 1) + ": expected timestamp,value, was '" + line + "'");
      }
      long t = LocalDateTime.parse(line.substring(0, comma).trim(), TIME).toInstant(ZoneOffset.UTC).toEpochMilli();
      if (values.isEmpty()) {
        start = t;
      } else if (values.size() == 1) {
        second = t;
      }
      values.add(Math.max(0, Double.parseDouble(line.substring(comma + 1).trim())));
    }
    if (values.size() < 2) {
      throw new IllegalArgumentException(path + ": fewer than two rows");
    }
    double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
    return List.of(new Trace(path.getFileName().toString(), Dimension.CPU, "value", start, second - start, v));
  }
}
