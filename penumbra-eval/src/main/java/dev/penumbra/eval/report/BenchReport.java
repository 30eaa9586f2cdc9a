package dev.penumbra.eval.report;

import dev.penumbra.server.Json;
import java.io.PrintStream;

/**
 * A benchmark's result as {@code penumbra bench ...} prints it: a table for a person, or one JSON document
 * written from a record by the product's one mapper. Every harness's report implements it, so the commands
 * print every benchmark the same way.
 */
public interface BenchReport {

  /** Writes the tables and one line per target. */
  void table(PrintStream out);

  /** The JSON document, as a record (camelCase keys, NaN as null). */
  Object json();

  /**
   * Prints in {@code format}: "table" or "json" (the document alone, indented, then a line break).
   *
   * @throws IllegalArgumentException naming the format when it is neither
   */
  default void print(String format, PrintStream out) {
    switch (format) {
      case "table" -> table(out);
      case "json" -> out.println(Json.pretty(json()));
      default -> throw new IllegalArgumentException("format '" + format + "' is not one of table, json");
    }
    out.flush();
  }
}
