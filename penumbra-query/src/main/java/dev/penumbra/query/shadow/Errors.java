package dev.penumbra.query.shadow;

import dev.penumbra.query.shadow.QueryRejectedException.Kind;
import java.sql.SQLException;

/** Maps DuckDB error messages ("Parser Error: ...", "Catalog Error: ...") to rejection kinds. */
final class Errors {
  private Errors() {}

  /** The prefix the shadow plans with; the client never wrote it, so its messages must not show it. */
  private static final String EXPLAIN = "EXPLAIN (FORMAT JSON) ";

  static QueryRejectedException reject(SQLException e) {
    String m = e.getMessage() == null ? e.toString() : e.getMessage().strip();
    return new QueryRejectedException(classify(m), withoutSystemHints(withoutExplain(m)), e);
  }

  /** DuckDB's "Did you mean" hint naming one of its own catalog views, which a client's query cannot use. */
  private static final java.util.regex.Pattern SYSTEM_HINT = java.util.regex.Pattern.compile(
      "(?m)^Did you mean \"(?:[^\".]*\\.)?(?:pg_|duckdb_|sqlite_|information_schema|pragma_)[^\"]*\"\\?\\n?");

  /**
   * Drops a suggestion of a system view ("Did you mean "pg_sequences"?"): the engine's own catalog is not part of
   * what a client may query, so naming it only leaks the engine's internals and misleads.
   */
  static String withoutSystemHints(String message) {
    return SYSTEM_HINT.matcher(message).replaceAll("");
  }

  /** Drops the planning prefix from a "LINE n: ..." excerpt and moves its caret line back by as much. */
  static String withoutExplain(String message) {
    String[] lines = message.split("\n", -1);
    StringBuilder out = new StringBuilder();
    int shift = 0;
    for (String line : lines) {
      String l = line;
      int at = l.indexOf(EXPLAIN);
      if (l.startsWith("LINE ") && at > 0) {
        l = l.substring(0, at) + l.substring(at + EXPLAIN.length());
        shift = EXPLAIN.length();
      } else if (shift > 0 && !l.isBlank() && l.strip().matches("\\^+")) {
        // The caret line under the excerpt: one '^' or one per character of the name it points at.
        int spaces = l.indexOf('^');
        l = " ".repeat(Math.max(0, spaces - shift)) + l.strip();
        shift = 0;
      }
      if (out.length() > 0) {
        out.append('\n');
      }
      out.append(l);
    }
    return out.toString();
  }

  static Kind classify(String message) {
    String m = message.strip();
    if (m.startsWith("Parser Error")) {
      return Kind.SYNTAX;
    }
    if (m.startsWith("Catalog Error")) {
      // Unknown functions are catalog errors too; the caller named something that does not exist either way.
      return Kind.UNKNOWN_OBJECT;
    }
    if (m.startsWith("Binder Error")) {
      if (m.contains("not found") || m.contains("does not exist") || m.contains("not in the FROM clause")) {
        return Kind.UNKNOWN_OBJECT;
      }
      if (m.contains("type") || m.contains("function") || m.contains("cast") || m.contains("Cannot compare")) {
        return Kind.TYPE;
      }
      return Kind.OTHER;
    }
    if (m.startsWith("Conversion Error") || m.startsWith("Mismatch Type Error")
        || m.startsWith("Type Error") || m.contains("Could not convert")) {
      return Kind.TYPE;
    }
    return Kind.OTHER;
  }
}
