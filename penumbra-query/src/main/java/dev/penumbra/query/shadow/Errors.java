package dev.penumbra.query.shadow;

import dev.penumbra.query.shadow.QueryRejectedException.Kind;
import java.sql.SQLException;

/** Maps DuckDB error messages ("Parser Error: ...", "Catalog Error: ...") to rejection kinds. */
final class Errors {
  private Errors() {}

  static QueryRejectedException reject(SQLException e) {
    String m = e.getMessage() == null ? e.toString() : e.getMessage().strip();
    return new QueryRejectedException(classify(m), m, e);
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
