package dev.penumbra.query.shadow;

import dev.penumbra.query.shadow.QueryRejectedException.Kind;
import java.util.Locale;
import java.util.Set;

/**
 * Accepts exactly one read statement: the first keyword (after comments and opening parentheses) is SELECT,
 * WITH or FROM (DuckDB's FROM-first select), and no second statement follows a semicolon.
 */
final class ReadOnlyCheck {
  private ReadOnlyCheck() {}

  private static final Set<String> READ = Set.of("SELECT", "WITH", "FROM");
  private static final Set<String> STATEMENTS = Set.of("INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP",
      "ALTER", "COPY", "ATTACH", "DETACH", "PRAGMA", "SET", "RESET", "CALL", "INSTALL", "LOAD", "EXPORT", "IMPORT",
      "VACUUM", "CHECKPOINT", "TRUNCATE", "BEGIN", "START", "COMMIT", "ROLLBACK", "ABORT", "END", "GRANT", "REVOKE",
      "USE", "EXPLAIN", "ANALYZE", "SUMMARIZE", "DESCRIBE", "SHOW", "VALUES", "TABLE", "PREPARE", "EXECUTE",
      "DEALLOCATE", "UPDATE_EXTENSIONS", "COMMENT", "UNPIVOT", "PIVOT");

  /**
   * Throws for a statement that is not a read (or several statements); returns true for a read, false when
   * the first word is no statement keyword at all (the engine's parser then reports the syntax error).
   */
  static boolean check(String sql) {
    if (sql == null || sql.isBlank()) {
      throw new IllegalArgumentException("sql must not be blank, was '" + sql + "'");
    }
    String first = firstKeyword(sql);
    boolean read = READ.contains(first);
    if (!read && STATEMENTS.contains(first)) {
      throw new QueryRejectedException(Kind.NOT_READ_ONLY,
          "only read queries (SELECT / WITH) are accepted, got a statement starting with '" + first + "'", null);
    }
    int n = sql.length();
    int i = 0;
    while (i < n) {
      char c = sql.charAt(i);
      if (c == '\'' || c == '"') {
        i = skipQuoted(sql, i, c);
      } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
        i = skipLine(sql, i);
      } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
        i = skipBlock(sql, i);
      } else if (c == ';') {
        if (!firstKeyword(sql.substring(i + 1)).isEmpty()) {
          throw new QueryRejectedException(Kind.NOT_READ_ONLY, "only one statement per query is accepted", null);
        }
        return read;
      } else {
        i++;
      }
    }
    return read;
  }

  /** The first word of the SQL in upper case, skipping whitespace, comments and '('; "" when there is none. */
  static String firstKeyword(String sql) {
    int n = sql.length();
    int i = 0;
    while (i < n) {
      char c = sql.charAt(i);
      if (Character.isWhitespace(c) || c == '(') {
        i++;
      } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
        i = skipLine(sql, i);
      } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
        i = skipBlock(sql, i);
      } else {
        int j = i;
        while (j < n && Character.isLetter(sql.charAt(j))) {
          j++;
        }
        return j == i ? String.valueOf(c) : sql.substring(i, j).toUpperCase(Locale.ROOT);
      }
    }
    return "";
  }

  static int skipQuoted(String s, int i, char quote) {
    int j = i + 1;
    while (j < s.length()) {
      if (s.charAt(j) == quote) {
        if (j + 1 < s.length() && s.charAt(j + 1) == quote) {
          j += 2;
          continue;
        }
        return j + 1;
      }
      j++;
    }
    return s.length();
  }

  static int skipLine(String s, int i) {
    int j = s.indexOf('\n', i);
    return j < 0 ? s.length() : j + 1;
  }

  static int skipBlock(String s, int i) {
    int j = s.indexOf("*/", i + 2);
    return j < 0 ? s.length() : j + 2;
  }
}
