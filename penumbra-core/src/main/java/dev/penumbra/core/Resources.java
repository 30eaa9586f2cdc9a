package dev.penumbra.core;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An immutable amount of compute resources: CPU in millicores, memory in bytes, IO and network in bytes per
 * second. Every amount in Penumbra's APIs is a {@code Resources}, never a bare number.
 *
 * <p>Amounts are never negative; arithmetic that would go below zero throws (use {@link #minusClamped} where
 * "what is left" is meant). Overflow throws rather than wraps.
 */
public record Resources(long cpuMillis, long memoryBytes, long ioBytesPerSec, long networkBytesPerSec) {

  public static final Resources ZERO = new Resources(0, 0, 0, 0);

  /** The four dimensions, in a fixed order, for code that iterates over them. */
  public enum Dimension {
    CPU("cpu"), MEMORY("memory"), IO("io"), NETWORK("network");

    private final String label;

    Dimension(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }

    /** Parses "cpu", "memory", "io" or "network" (case-insensitive). */
    public static Dimension parse(String text) {
      for (Dimension d : values()) {
        if (d.label.equalsIgnoreCase(text == null ? "" : text.trim())) {
          return d;
        }
      }
      throw new IllegalArgumentException(
          "resource dimension '" + text + "' is not one of cpu, memory, io, network");
    }
  }

  public Resources {
    Checks.atLeast("cpuMillis", cpuMillis, 0L);
    Checks.atLeast("memoryBytes", memoryBytes, 0L);
    Checks.atLeast("ioBytesPerSec", ioBytesPerSec, 0L);
    Checks.atLeast("networkBytesPerSec", networkBytesPerSec, 0L);
  }

  public static Resources of(long cpuMillis, long memoryBytes) {
    return new Resources(cpuMillis, memoryBytes, 0, 0);
  }

  public static Resources cpu(long millis) {
    return new Resources(millis, 0, 0, 0);
  }

  public static Resources memory(long bytes) {
    return new Resources(0, bytes, 0, 0);
  }

  /** The amount in one dimension. */
  public long get(Dimension d) {
    return switch (d) {
      case CPU -> cpuMillis;
      case MEMORY -> memoryBytes;
      case IO -> ioBytesPerSec;
      case NETWORK -> networkBytesPerSec;
    };
  }

  /** A copy with one dimension replaced. */
  public Resources with(Dimension d, long value) {
    return switch (d) {
      case CPU -> new Resources(value, memoryBytes, ioBytesPerSec, networkBytesPerSec);
      case MEMORY -> new Resources(cpuMillis, value, ioBytesPerSec, networkBytesPerSec);
      case IO -> new Resources(cpuMillis, memoryBytes, value, networkBytesPerSec);
      case NETWORK -> new Resources(cpuMillis, memoryBytes, ioBytesPerSec, value);
    };
  }

  public Resources plus(Resources o) {
    return new Resources(
        Math.addExact(cpuMillis, o.cpuMillis),
        Math.addExact(memoryBytes, o.memoryBytes),
        Math.addExact(ioBytesPerSec, o.ioBytesPerSec),
        Math.addExact(networkBytesPerSec, o.networkBytesPerSec));
  }

  /** Subtracts; throws if any dimension would go negative (an accounting error, never clamped silently). */
  public Resources minus(Resources o) {
    if (!o.fits(this)) {
      throw new IllegalArgumentException("cannot subtract " + o + " from " + this + ": result would be negative");
    }
    return new Resources(
        cpuMillis - o.cpuMillis,
        memoryBytes - o.memoryBytes,
        ioBytesPerSec - o.ioBytesPerSec,
        networkBytesPerSec - o.networkBytesPerSec);
  }

  /** Subtracts per dimension, stopping at zero: "how much of this is not covered by {@code o}". */
  public Resources minusClamped(Resources o) {
    return new Resources(
        Math.max(0, cpuMillis - o.cpuMillis),
        Math.max(0, memoryBytes - o.memoryBytes),
        Math.max(0, ioBytesPerSec - o.ioBytesPerSec),
        Math.max(0, networkBytesPerSec - o.networkBytesPerSec));
  }

  /** True when every dimension of this is at most the same dimension of {@code capacity}. */
  public boolean fits(Resources capacity) {
    return cpuMillis <= capacity.cpuMillis
        && memoryBytes <= capacity.memoryBytes
        && ioBytesPerSec <= capacity.ioBytesPerSec
        && networkBytesPerSec <= capacity.networkBytesPerSec;
  }

  public Resources max(Resources o) {
    return new Resources(
        Math.max(cpuMillis, o.cpuMillis),
        Math.max(memoryBytes, o.memoryBytes),
        Math.max(ioBytesPerSec, o.ioBytesPerSec),
        Math.max(networkBytesPerSec, o.networkBytesPerSec));
  }

  public Resources min(Resources o) {
    return new Resources(
        Math.min(cpuMillis, o.cpuMillis),
        Math.min(memoryBytes, o.memoryBytes),
        Math.min(ioBytesPerSec, o.ioBytesPerSec),
        Math.min(networkBytesPerSec, o.networkBytesPerSec));
  }

  /** Multiplies every dimension by {@code factor} (>= 0, finite), rounding up so a scaled-up need is covered. */
  public Resources scale(double factor) {
    Checks.atLeast("scale factor", factor, 0.0);
    return new Resources(
        scaled("cpuMillis", cpuMillis, factor),
        scaled("memoryBytes", memoryBytes, factor),
        scaled("ioBytesPerSec", ioBytesPerSec, factor),
        scaled("networkBytesPerSec", networkBytesPerSec, factor));
  }

  private static long scaled(String field, long v, double factor) {
    double r = Math.ceil(v * factor);
    if (r >= Long.MAX_VALUE) {
      throw new ArithmeticException(field + " overflows when " + v + " is scaled by " + factor);
    }
    return (long) r;
  }

  public boolean isZero() {
    return cpuMillis == 0 && memoryBytes == 0 && ioBytesPerSec == 0 && networkBytesPerSec == 0;
  }

  /**
   * The largest share of {@code capacity} this takes in any dimension that capacity has (dominant share);
   * 0 for zero, may exceed 1 when this does not fit.
   */
  public double dominantShare(Resources capacity) {
    double s = 0;
    for (Dimension d : Dimension.values()) {
      long c = capacity.get(d);
      long v = get(d);
      if (c > 0) {
        s = Math.max(s, (double) v / c);
      } else if (v > 0) {
        return Double.POSITIVE_INFINITY;
      }
    }
    return s;
  }

  // ---------------------------------------------------------------- parsing and formatting

  private static final Pattern QUANTITY =
      Pattern.compile("^\\s*([0-9]+(?:\\.[0-9]+)?|\\.[0-9]+)\\s*([A-Za-z/]*)\\s*$");

  /**
   * Parses a CPU amount: "2.5 cores", "2.5", "1 core", "500m", "500 millicores".
   *
   * @throws IllegalArgumentException naming the text when it is not a CPU amount
   */
  public static long parseCpuMillis(String text) {
    Matcher m = match("cpu", text);
    double n = Double.parseDouble(m.group(1));
    String unit = m.group(2).toLowerCase(Locale.ROOT);
    double millis = switch (unit) {
      case "", "core", "cores", "cpu", "cpus", "vcpu", "vcpus" -> n * 1000;
      case "m", "millicore", "millicores", "mcpu" -> n;
      default -> throw new IllegalArgumentException(
          "cpu: unknown unit '" + m.group(2) + "' in '" + text + "' (use cores, or m for millicores)");
    };
    return toLong("cpu", text, millis);
  }

  /**
   * Parses a byte amount: "512MiB", "1.5 GiB", "100MB", "4096", "4096B", "2k". Binary (KiB, MiB, GiB, TiB,
   * also K/M/G/T/Ki/Mi/Gi/Ti as in Kubernetes) and decimal (kB, MB, GB, TB) units.
   */
  public static long parseBytes(String text) {
    Matcher m = match("bytes", text);
    double n = Double.parseDouble(m.group(1));
    String unit = m.group(2);
    double mult = switch (unit) {
      case "", "B", "b" -> 1;
      case "KiB", "Ki", "K", "k", "KB" -> 1L << 10;
      case "MiB", "Mi", "M" -> 1L << 20;
      case "GiB", "Gi", "G" -> 1L << 30;
      case "TiB", "Ti", "T" -> 1L << 40;
      case "kB" -> 1e3;
      case "MB" -> 1e6;
      case "GB" -> 1e9;
      case "TB" -> 1e12;
      default -> throw new IllegalArgumentException(
          "bytes: unknown unit '" + unit + "' in '" + text + "' (use B, KiB, MiB, GiB, TiB, kB, MB, GB, TB)");
    };
    return toLong("bytes", text, n * mult);
  }

  /** Parses a rate in bytes per second: "100MiB/s", "1 GB/s", "4096" (a trailing "/s" is optional). */
  public static long parseBytesPerSec(String text) {
    if (text == null) {
      throw new IllegalArgumentException("bytes/s: value is missing");
    }
    String t = text.trim();
    if (t.endsWith("/s")) {
      t = t.substring(0, t.length() - 2);
    }
    try {
      return parseBytes(t);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("bytes/s: cannot parse '" + text + "': " + e.getMessage(), e);
    }
  }

  /**
   * Parses the {@link #toString} form or any subset of it: "cpu=2.5 cores, memory=512MiB, io=10MiB/s,
   * network=1MiB/s". Missing dimensions are zero.
   */
  public static Resources parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("resources: value is missing");
    }
    String body = text.trim();
    if (body.startsWith("Resources[") && body.endsWith("]")) {
      body = body.substring("Resources[".length(), body.length() - 1);
    }
    Resources r = ZERO;
    for (String part : body.split(",")) {
      int eq = part.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException(
            "resources: '" + part.trim() + "' in '" + text + "' is not of the form dimension=amount");
      }
      Dimension d = Dimension.parse(part.substring(0, eq));
      String amount = part.substring(eq + 1);
      long v = switch (d) {
        case CPU -> parseCpuMillis(amount);
        case MEMORY -> parseBytes(amount);
        case IO, NETWORK -> parseBytesPerSec(amount);
      };
      r = r.with(d, v);
    }
    return r;
  }

  private static Matcher match(String what, String text) {
    if (text == null) {
      throw new IllegalArgumentException(what + ": value is missing");
    }
    Matcher m = QUANTITY.matcher(text);
    if (!m.matches()) {
      throw new IllegalArgumentException(what + ": cannot parse '" + text + "' (expected a non-negative number and a unit)");
    }
    return m;
  }

  private static long toLong(String what, String text, double v) {
    if (v >= Long.MAX_VALUE) {
      throw new IllegalArgumentException(what + ": '" + text + "' is too large");
    }
    return Math.round(v);
  }

  /** "2.5 cores", "500m". */
  public static String formatCpu(long millis) {
    if (millis % 1000 == 0) {
      return (millis / 1000) + (millis == 1000 ? " core" : " cores");
    }
    if (millis < 1000) {
      return millis + "m";
    }
    return trim(millis / 1000.0) + " cores";
  }

  /** "512MiB", "1.5GiB", "100B" — binary units, at most three decimals. */
  public static String formatBytes(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int i = 0;
    double v = bytes;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return trim(v) + units[i];
  }

  private static String trim(double v) {
    String s = String.format(Locale.ROOT, "%.3f", v);
    s = s.replaceAll("0+$", "");
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }

  /** The parseable form, e.g. "cpu=2.5 cores, memory=512MiB, io=0B/s, network=0B/s". */
  @Override
  public String toString() {
    return "cpu=" + formatCpu(cpuMillis)
        + ", memory=" + formatBytes(memoryBytes)
        + ", io=" + formatBytes(ioBytesPerSec) + "/s"
        + ", network=" + formatBytes(networkBytesPerSec) + "/s";
  }
}
