package dev.penumbra.eval.trace;

import java.io.IOException;

/**
 * A trace file that cannot be read as a trace: its content is malformed (a non-numeric, negative or missing
 * value, an unparseable timestamp, a wrong column count), it is empty, or its format is not recognised. The
 * whole file is rejected; the message says where: {@code file:line: problem: 'value'}.
 *
 * <p>It is an {@link IOException} because it reports bad input from outside the program, like an unreadable
 * file, and callers of {@link TraceReaders} handle both the same way.
 */
public final class TraceFormatException extends IOException {

  private static final long serialVersionUID = 1L;

  private final String file;
  private final long line;
  private final String value;

  /**
   * @param file the file as the reader names it (an archive entry as {@code archive!entry})
   * @param line the 1-based line number, or 0 when the problem concerns the file as a whole
   * @param problem what is wrong, e.g. "value is not a number"
   * @param value the offending text, or {@code null} when there is none (e.g. an empty file)
   */
  public TraceFormatException(String file, long line, String problem, String value) {
    super(message(file, line, problem, value));
    this.file = file;
    this.line = line;
    this.value = value;
  }

  private static String message(String file, long line, String problem, String value) {
    StringBuilder sb = new StringBuilder(file);
    if (line > 0) {
      sb.append(':').append(line);
    }
    sb.append(": ").append(problem);
    if (value != null) {
      sb.append(": '").append(value.length() > 200 ? value.substring(0, 200) + "..." : value).append('\'');
    }
    return sb.toString();
  }

  /** The file as the reader names it. */
  public String file() {
    return file;
  }

  /** The 1-based line number, 0 when the problem concerns the whole file. */
  public long line() {
    return line;
  }

  /** The offending text, or {@code null}. */
  public String value() {
    return value;
  }
}
