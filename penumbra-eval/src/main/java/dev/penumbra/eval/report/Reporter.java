package dev.penumbra.eval.report;

import dev.penumbra.eval.replay.ReplayResult;
import java.io.IOException;
import java.io.Writer;

/** Writes a replay's results in one format. Reporters iterate the metrics generically. */
public interface Reporter {

  void write(ReplayResult result, Writer out) throws IOException;

  /**
   * The reporter of {@code format}: "table", "csv", "json" or "html".
   *
   * @throws IllegalArgumentException naming the format when it is unknown
   */
  static Reporter of(String format) {
    return switch (format == null ? "" : format) {
      case "table" -> new TableReporter();
      case "csv" -> new CsvReporter();
      case "json" -> new JsonReporter();
      case "html" -> new HtmlReporter();
      default -> throw new IllegalArgumentException("format '" + format + "' is not one of table, csv, json, html");
    };
  }
}
