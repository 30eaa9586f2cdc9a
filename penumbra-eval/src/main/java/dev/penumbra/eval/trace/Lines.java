package dev.penumbra.eval.trace;

import java.io.BufferedReader;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * The lines of one trace file with their numbers, and the field parsing every format shares. Errors are
 * raised here so that each one names the file, the current line and the offending text.
 */
final class Lines {

  /**
   * Negative values down to this are rounding noise in the source (e.g. -1.2e-5 in a utilization series)
   * and read as 0; anything more negative fails the file.
   */
  static final double NEGATIVE_TOLERANCE = 1e-4;

  /** Numeric timestamps at or above this are epoch milliseconds (1e11 s would be the year 5138). */
  private static final double MILLIS_THRESHOLD = 1e11;

  private final String name;
  private final BufferedReader reader;
  private long number;

  Lines(String name, BufferedReader reader) {
    this.name = name;
    this.reader = reader;
  }

  /** The file as errors and trace names call it. */
  String name() {
    return name;
  }

  /** The number of the line last returned by {@link #next()} (1-based). */
  long number() {
    return number;
  }

  /** The next line, without a leading byte-order mark, or {@code null} at the end. */
  String next() throws IOException {
    String line = reader.readLine();
    if (line != null) {
      number++;
      if (number == 1 && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
        line = line.substring(1);
      }
    }
    return line;
  }

  /** The next line that is not blank, or {@code null} at the end. */
  String nextNonBlank() throws IOException {
    String line;
    while ((line = next()) != null) {
      if (!line.isBlank()) {
        return line;
      }
    }
    return null;
  }

  TraceFormatException error(String problem, String value) {
    return new TraceFormatException(name, number, problem, value);
  }

  TraceFormatException fileError(String problem) {
    return new TraceFormatException(name, 0, problem, null);
  }

  /**
   * Splits a line at {@code sep}, trimming white space around each field and one pair of surrounding double
   * quotes (exports quote names; quoted separators are not supported).
   */
  static List<String> split(String line, char sep) {
    List<String> fields = new ArrayList<>(12);
    int start = 0;
    int n = line.length();
    for (int i = 0; i <= n; i++) {
      if (i == n || line.charAt(i) == sep) {
        fields.add(clean(line, start, i));
        start = i + 1;
      }
    }
    return fields;
  }

  /**
   * Splits into exactly {@code expected} fields, or fails naming the line. Faster than {@link #split} for the
   * fixed-width formats because it fills a reused array.
   */
  String[] fields(String line, char sep, String[] out) throws TraceFormatException {
    int count = 0;
    int start = 0;
    int n = line.length();
    for (int i = 0; i <= n; i++) {
      if (i == n || line.charAt(i) == sep) {
        if (count < out.length) {
          out[count] = clean(line, start, i);
        }
        count++;
        start = i + 1;
      }
    }
    if (count != out.length) {
      throw error("expected " + out.length + " columns but found " + count, line);
    }
    return out;
  }

  private static String clean(String line, int from, int to) {
    while (from < to && line.charAt(from) <= ' ') {
      from++;
    }
    while (to > from && line.charAt(to - 1) <= ' ') {
      to--;
    }
    if (to - from >= 2 && line.charAt(from) == '"' && line.charAt(to - 1) == '"') {
      from++;
      to--;
    }
    return line.substring(from, to);
  }

  /**
   * A usage value: a finite decimal number, not negative beyond {@link #NEGATIVE_TOLERANCE}. Missing, NaN,
   * infinite and suffixed numbers ("1.5d", which Java would accept) fail.
   */
  double value(String field, String column) throws TraceFormatException {
    if (field.isEmpty()) {
      throw error("missing value in column " + column, field);
    }
    char last = field.charAt(field.length() - 1);
    double v;
    try {
      if (!(last >= '0' && last <= '9') && last != '.') {
        throw new NumberFormatException();
      }
      v = Double.parseDouble(field);
    } catch (NumberFormatException e) {
      throw error("value in column " + column + " is not a number", field);
    }
    if (v < 0) {
      if (v < -NEGATIVE_TOLERANCE) {
        throw error("value in column " + column + " is negative", field);
      }
      return 0;
    }
    return v;
  }

  /**
   * A timestamp in epoch milliseconds. Numbers are epoch seconds (fractions allowed) below 1e11 and epoch
   * milliseconds from there on; text is ISO-8601 ({@code 2014-02-14T14:30:00Z}, with an offset, or without a
   * zone) or {@code yyyy-MM-dd HH:mm:ss[.fff]} or {@code yyyy-MM-dd}; times without a zone are UTC.
   */
  long timeMillis(String field) throws TraceFormatException {
    if (field.isEmpty()) {
      throw error("missing timestamp", field);
    }
    char c0 = field.charAt(0);
    if (field.length() >= 10 && field.charAt(4) == '-' && c0 >= '0' && c0 <= '9') {
      long fast = fastDateTime(field);
      if (fast != Long.MIN_VALUE) {
        return fast;
      }
      return isoTime(field);
    }
    char last = field.charAt(field.length() - 1);
    double t;
    try {
      if (!(last >= '0' && last <= '9') && last != '.') {
        throw new NumberFormatException();
      }
      t = Double.parseDouble(field);
    } catch (NumberFormatException e) {
      throw error("timestamp is neither a number nor a date-time", field);
    }
    if (!Double.isFinite(t) || t < 0) {
      throw error("timestamp must be a non-negative epoch time", field);
    }
    return t >= MILLIS_THRESHOLD ? Math.round(t) : Math.round(t * 1000);
  }

  /** {@code yyyy-MM-dd HH:mm:ss} or with 'T', exactly 19 characters, as UTC; MIN_VALUE if not that shape. */
  private long fastDateTime(String s) throws TraceFormatException {
    if (s.length() != 19 || s.charAt(7) != '-' || (s.charAt(10) != ' ' && s.charAt(10) != 'T')
        || s.charAt(13) != ':' || s.charAt(16) != ':') {
      return Long.MIN_VALUE;
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 7);
    int day = digits(s, 8, 10);
    int hour = digits(s, 11, 13);
    int minute = digits(s, 14, 16);
    int second = digits(s, 17, 19);
    if ((year | month | day | hour | minute | second) < 0 || month < 1 || month > 12 || day < 1
        || day > LocalDate.of(year, month, 1).lengthOfMonth() || hour > 23 || minute > 59 || second > 59) {
      throw error("unparseable timestamp", s);
    }
    long days = LocalDate.of(year, month, day).toEpochDay();
    return ((days * 24 + hour) * 60 + minute) * 60_000L + second * 1000L;
  }

  private static int digits(String s, int from, int to) {
    int v = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  private long isoTime(String s) throws TraceFormatException {
    String t = s.length() > 10 && s.charAt(10) == ' ' ? s.substring(0, 10) + 'T' + s.substring(11) : s;
    try {
      if (t.length() == 10) {
        return LocalDate.parse(t).toEpochDay() * 86_400_000L;
      }
      if (t.endsWith("Z") || t.endsWith("z")) {
        return Instant.parse(t.substring(0, t.length() - 1) + 'Z').toEpochMilli();
      }
      int tee = t.indexOf('T');
      if (tee > 0 && (t.indexOf('+', tee) > 0 || t.indexOf('-', tee) > 0)) {
        return OffsetDateTime.parse(t).toInstant().toEpochMilli();
      }
      return LocalDateTime.parse(t).toInstant(ZoneOffset.UTC).toEpochMilli();
    } catch (DateTimeParseException e) {
      throw error("unparseable timestamp", s);
    }
  }
}
