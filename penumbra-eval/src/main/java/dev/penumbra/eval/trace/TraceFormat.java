package dev.penumbra.eval.trace;

import dev.penumbra.core.Resources.Dimension;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The trace formats: how each is recognised from its first line and parsed into traces. */
enum TraceFormat {

  /** Numenta Anomaly Benchmark: header {@code timestamp,value}, one series per file. */
  NAB("nab") {
    @Override
    List<Trace> parse(Lines lines, String header) throws IOException {
      if (!isNabHeader(header)) {
        throw lines.error("not a nab header; expected 'timestamp,value'", header);
      }
      String file = baseName(lines.name());
      Dimension dim = nabResource(file);
      String unit = switch (dim) {
        case CPU -> file.contains("cpu") ? "percent" : "count";
        case NETWORK, IO -> "bytes";
        case MEMORY -> "bytes";
      };
      Samples s = new Samples(1);
      String[] f = new String[2];
      String line;
      while ((line = lines.next()) != null) {
        if (line.isBlank()) {
          continue;
        }
        lines.fields(line, ',', f);
        long t = lines.timeMillis(f[0]);
        s.add(t, lines.value(f[1], "value"));
      }
      return single(lines, s, new String[] {dim.label()}, new Dimension[] {dim}, new String[] {unit});
    }
  },

  /** Bitbrains GWA-T-12: ';'-separated, 11 columns, timestamps in epoch seconds despite "[ms]". */
  BITBRAINS("bitbrains") {
    @Override
    List<Trace> parse(Lines lines, String header) throws IOException {
      if (!isBitbrainsHeader(header)) {
        throw lines.error("not a bitbrains header; expected 'Timestamp [ms]; CPU cores; ...' with 11 columns", header);
      }
      Samples s = new Samples(4);
      String[] f = new String[11];
      double[] row = new double[4];
      String line;
      while ((line = lines.next()) != null) {
        if (line.isBlank()) {
          continue;
        }
        lines.fields(line, ';', f);
        long t = lines.timeMillis(f[0]);
        row[0] = lines.value(f[3], "CPU usage [MHZ]");
        row[1] = lines.value(f[6], "Memory usage [KB]");
        row[2] = lines.value(f[7], "Disk read throughput [KB/s]") + lines.value(f[8], "Disk write throughput [KB/s]");
        row[3] = lines.value(f[9], "Network received throughput [KB/s]")
            + lines.value(f[10], "Network transmitted throughput [KB/s]");
        s.add(t, row);
      }
      return single(lines, s, new String[] {"cpu", "memory", "io", "network"},
          new Dimension[] {Dimension.CPU, Dimension.MEMORY, Dimension.IO, Dimension.NETWORK},
          new String[] {"MHz", "KB", "KB/s", "KB/s"});
    }
  },

  /** Alibaba cluster-trace-v2018 machine_usage: no header, 9 columns, irregular sampling per machine. */
  ALIBABA2018("alibaba2018") {
    @Override
    List<Trace> parse(Lines lines, String first) throws IOException {
      Map<String, Samples> machines = new HashMap<>();
      String[] f = new String[9];
      String line = first;
      String lastId = null;
      Samples current = null;
      do {
        if (line.isBlank()) {
          continue;
        }
        lines.fields(line, ',', f);
        if (f[0].isEmpty()) {
          throw lines.error("missing machine_id", line);
        }
        long t = lines.timeMillis(f[1]);
        double cpu = lines.value(f[2], "cpu_util_percent");
        double mem = lines.value(f[3], "mem_util_percent");
        if (!f[0].equals(lastId)) { // rows come grouped by machine: skip the lookup on most of them
          lastId = f[0];
          current = machines.computeIfAbsent(lastId, k -> new Samples(2));
        }
        current.add(t, cpu, mem);
      } while ((line = lines.next()) != null);
      return multi(lines, machines, new String[] {"cpu", "memory"}, new Dimension[] {Dimension.CPU, Dimension.MEMORY},
          new String[] {"percent", "percent"});
    }
  },

  /**
   * Alibaba GenAI 2026 pod memory: header with value, timestamp_anon, container_ip; one series per container;
   * rows without a container_ip are skipped.
   */
  GENAI2026("genai2026") {
    @Override
    List<Trace> parse(Lines lines, String header) throws IOException {
      List<String> cols = lower(Lines.split(header, ','));
      int vi = cols.indexOf("value");
      int ti = cols.indexOf("timestamp_anon");
      int ci = cols.indexOf("container_ip");
      if (vi < 0 || ti < 0 || ci < 0) {
        throw lines.error("not a genai2026 header; expected columns value, timestamp_anon, container_ip", header);
      }
      String file = baseName(lines.name());
      if (!file.contains("memory") || file.contains("gpu")) {
        throw lines.fileError("genai2026: only pod memory (pod_memory_util) is a host resource; this metric is not");
      }
      Map<String, Samples> pods = new HashMap<>();
      String[] f = new String[cols.size()];
      String line;
      String lastId = null;
      Samples current = null;
      while ((line = lines.next()) != null) {
        if (line.isBlank()) {
          continue;
        }
        lines.fields(line, ',', f);
        if (f[ci].isEmpty()) {
          continue; // the trace has a few rows without a container: they belong to no series
        }
        long t = lines.timeMillis(f[ti]);
        double v = lines.value(f[vi], "value");
        if (!f[ci].equals(lastId)) {
          lastId = f[ci];
          current = pods.computeIfAbsent(lastId, k -> new Samples(1));
        }
        current.add(t, v);
      }
      return multi(lines, pods, new String[] {"memory"}, new Dimension[] {Dimension.MEMORY},
          new String[] {"utilization"});
    }
  },

  /** Generic CSV: a header with a time column and one or more value columns. */
  CSV("csv") {
    @Override
    List<Trace> parse(Lines lines, String header) throws IOException {
      char sep = separator(header, lines.name());
      List<String> cols = Lines.split(header, sep);
      int ti = timeColumn(cols);
      if (ti < 0) {
        throw lines.error("no time column (one of " + TIME_COLUMNS + ") in the header", header);
      }
      int m = cols.size() - 1;
      if (m == 0) {
        throw lines.error("no value column beside the time column", header);
      }
      String[] names = new String[m];
      Dimension[] dims = new Dimension[m];
      String[] units = new String[m];
      int[] index = new int[m];
      for (int c = 0, k = 0; c < cols.size(); c++) {
        if (c == ti) {
          continue;
        }
        String col = cols.get(c);
        if (col.isEmpty()) {
          throw lines.error("column " + (c + 1) + " has no name", header);
        }
        index[k] = c;
        names[k] = col;
        dims[k] = columnResource(col);
        units[k] = columnUnit(col);
        k++;
      }
      Samples s = new Samples(m);
      String[] f = new String[cols.size()];
      double[] row = new double[m];
      String line;
      while ((line = lines.next()) != null) {
        if (line.isBlank()) {
          continue;
        }
        lines.fields(line, sep, f);
        long t = lines.timeMillis(f[ti]);
        for (int k = 0; k < m; k++) {
          row[k] = lines.value(f[index[k]], names[k]);
        }
        s.add(t, row);
      }
      String[] suffixes = new String[m];
      for (int k = 0; k < m; k++) {
        suffixes[k] = names[k] + ":" + dims[k].label();
      }
      return single(lines, s, suffixes, dims, units);
    }
  };

  static final Set<String> TIME_COLUMNS = Set.of("timestamp", "time", "ts", "date", "datetime");

  private final String formatName;

  TraceFormat(String formatName) {
    this.formatName = formatName;
  }

  abstract List<Trace> parse(Lines lines, String header) throws IOException;

  static List<String> names() {
    List<String> names = new ArrayList<>();
    names.add("auto");
    for (TraceFormat f : values()) {
      names.add(f.formatName);
    }
    return List.copyOf(names);
  }

  static TraceFormat of(String name) {
    for (TraceFormat f : values()) {
      if (f.formatName.equalsIgnoreCase(name == null ? "" : name.trim())) {
        return f;
      }
    }
    throw new IllegalArgumentException("trace format '" + name + "' is not one of " + String.join(", ", names()));
  }

  /** Recognises a file by its first non-blank line. */
  static TraceFormat detect(String header, Lines lines) throws TraceFormatException {
    if (isBitbrainsHeader(header)) {
      return BITBRAINS;
    }
    if (isNabHeader(header)) {
      return NAB;
    }
    List<String> commas = lower(Lines.split(header, ','));
    if (commas.contains("value") && commas.contains("timestamp_anon") && commas.contains("container_ip")) {
      return GENAI2026;
    }
    if (commas.size() == 9 && commas.get(0).startsWith("m_") && !commas.get(1).isEmpty()
        && commas.get(1).chars().allMatch(Character::isDigit)) {
      return ALIBABA2018;
    }
    if (timeColumn(Lines.split(header, separator(header, lines.name()))) >= 0) {
      return CSV;
    }
    throw lines.error("unrecognised trace format (expected nab, bitbrains, alibaba2018, genai2026, or csv with a "
        + "time column named one of " + TIME_COLUMNS + ")", header);
  }

  static boolean isNabHeader(String header) {
    List<String> f = lower(Lines.split(header, ','));
    return f.size() == 2 && f.get(0).equals("timestamp") && f.get(1).equals("value");
  }

  static boolean isBitbrainsHeader(String header) {
    List<String> f = lower(Lines.split(header, ';'));
    return f.size() == 11 && f.get(0).startsWith("timestamp") && f.get(3).equals("cpu usage [mhz]");
  }

  /**
   * NAB files name their metric: "cpu" -> cpu (percent), "network" -> network (bytes), "disk" -> io (bytes),
   * anything else (request counts, tweets, taxis, temperatures) -> cpu with unit "count".
   */
  static Dimension nabResource(String lowerFileName) {
    if (lowerFileName.contains("cpu")) {
      return Dimension.CPU;
    }
    if (lowerFileName.contains("network")) {
      return Dimension.NETWORK;
    }
    if (lowerFileName.contains("disk")) {
      return Dimension.IO;
    }
    return Dimension.CPU;
  }

  /**
   * A CSV column's resource: the keyword found earliest in its lower-cased name decides: "cpu" -> cpu, "mem"
   * -> memory, "disk" or a word starting with "io" -> io, "net" -> network; no keyword -> cpu.
   */
  static Dimension columnResource(String column) {
    String n = column.toLowerCase(Locale.ROOT);
    Dimension best = Dimension.CPU;
    int bestAt = Integer.MAX_VALUE;
    int at;
    if ((at = n.indexOf("cpu")) >= 0 && at < bestAt) {
      best = Dimension.CPU;
      bestAt = at;
    }
    if ((at = n.indexOf("mem")) >= 0 && at < bestAt) {
      best = Dimension.MEMORY;
      bestAt = at;
    }
    if ((at = n.indexOf("disk")) >= 0 && at < bestAt) {
      best = Dimension.IO;
      bestAt = at;
    }
    if ((at = wordStartingWith(n, "io")) >= 0 && at < bestAt) {
      best = Dimension.IO;
      bestAt = at;
    }
    if ((at = n.indexOf("net")) >= 0 && at < bestAt) {
      best = Dimension.NETWORK;
    }
    return best;
  }

  private static int wordStartingWith(String n, String prefix) {
    for (int at = n.indexOf(prefix); at >= 0; at = n.indexOf(prefix, at + 1)) {
      if (at == 0 || !Character.isLetterOrDigit(n.charAt(at - 1))) {
        return at;
      }
    }
    return -1;
  }

  /** The unit in a column name's trailing brackets or parentheses ("mem [KB]" -> "KB"), else "value". */
  static String columnUnit(String column) {
    String c = column.strip();
    if (c.endsWith("]") || c.endsWith(")")) {
      int open = c.lastIndexOf(c.endsWith("]") ? '[' : '(');
      if (open >= 0 && open < c.length() - 2) {
        return c.substring(open + 1, c.length() - 1).strip();
      }
    }
    return "value";
  }

  static int timeColumn(List<String> cols) {
    for (int i = 0; i < cols.size(); i++) {
      String c = cols.get(i).toLowerCase(Locale.ROOT);
      int bracket = Math.max(c.indexOf('['), c.indexOf('('));
      if (bracket > 0) {
        c = c.substring(0, bracket);
      }
      if (TIME_COLUMNS.contains(c.strip())) {
        return i;
      }
    }
    return -1;
  }

  /** Tab for .tsv files; otherwise whichever of ',', ';', tab occurs most in the header (',' on ties). */
  static char separator(String header, String fileName) {
    if (fileName.toLowerCase(Locale.ROOT).endsWith(".tsv")) {
      return '\t';
    }
    int commas = 0;
    int semis = 0;
    int tabs = 0;
    for (int i = 0; i < header.length(); i++) {
      switch (header.charAt(i)) {
        case ',' -> commas++;
        case ';' -> semis++;
        case '\t' -> tabs++;
        default -> { }
      }
    }
    if (semis > commas && semis >= tabs) {
      return ';';
    }
    return tabs > commas ? '\t' : ',';
  }

  private static List<String> lower(List<String> fields) {
    List<String> out = new ArrayList<>(fields.size());
    for (String f : fields) {
      out.add(f.toLowerCase(Locale.ROOT));
    }
    return out;
  }

  private static String baseName(String name) {
    return name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('!')) + 1).toLowerCase(Locale.ROOT);
  }

  /** One source series (all channels share timestamps) on its own grid: step = its median step. */
  static List<Trace> single(Lines lines, Samples s, String[] suffixes, Dimension[] dims, String[] units)
      throws TraceFormatException {
    if (s.size() == 0) {
      throw lines.fileError("has a header but no data rows");
    }
    s.normalize();
    long step = s.medianStep();
    if (step <= 0) {
      throw lines.fileError("needs at least two distinct timestamps to find its sampling interval");
    }
    Samples.Grid g = s.grid(s.firstTime(), step, TraceReaders.MAX_INTERPOLATED_GAP, lines);
    List<Trace> out = new ArrayList<>(suffixes.length);
    for (int c = 0; c < suffixes.length; c++) {
      out.add(new Trace(lines.name() + ":" + suffixes[c], dims[c], units[c], g.startMillis(), step, g.values()[c]));
    }
    return out;
  }

  /**
   * Many series from one file (machines, pods) on one shared grid so that they line up: the step is the
   * median step over all series, the grid is anchored at the file's earliest timestamp.
   */
  static List<Trace> multi(Lines lines, Map<String, Samples> series, String[] suffixes, Dimension[] dims,
      String[] units) throws TraceFormatException {
    if (series.isEmpty()) {
      throw lines.fileError("has a header but no data rows");
    }
    String[] ids = series.keySet().toArray(new String[0]);
    Arrays.sort(ids);
    long[][] steps = {new long[1024]};
    int count = 0;
    long anchor = Long.MAX_VALUE;
    for (String id : ids) {
      Samples s = series.get(id);
      s.normalize();
      count = s.collectSteps(steps, count);
      anchor = Math.min(anchor, s.firstTime());
    }
    long step = Samples.medianStep(steps[0], count);
    if (step <= 0) {
      throw lines.fileError("needs at least two distinct timestamps in some series to find the sampling interval");
    }
    List<Trace> out = new ArrayList<>(ids.length * suffixes.length);
    for (String id : ids) {
      Samples.Grid g = series.get(id).grid(anchor, step, TraceReaders.MAX_INTERPOLATED_GAP, lines);
      for (int c = 0; c < suffixes.length; c++) {
        out.add(new Trace(lines.name() + ":" + id + ":" + suffixes[c], dims[c], units[c], g.startMillis(), step,
            g.values()[c]));
      }
    }
    return out;
  }
}
