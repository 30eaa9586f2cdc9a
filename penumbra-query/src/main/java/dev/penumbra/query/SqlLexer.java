package dev.penumbra.query;

import dev.penumbra.core.Checks;
import java.util.ArrayList;
import java.util.List;

/**
 * The one place SQL text is cut into what quotes and what does not, as DuckDB and PostgreSQL read it: {@code '...'}
 * strings ({@code ''} inside; after a standalone {@code E}, a backslash escapes the next character), {@code "..."}
 * names ({@code ""} inside), dollar-quoted strings ({@code $$...$$}, {@code $tag$...$tag$}; {@code $1} is a
 * parameter), {@code --} comments to the end of the line (the line break is not part of it) and {@code /* ... *}{@code /}
 * comments (not nested). Everything else is {@link Kind#CODE}. A quote or comment never closed runs to the end of the
 * text and says so ({@link Token#closed()}). Used by the query fingerprint and the statement splitter of
 * {@code bench query --queries}; the sandbox decides with the engine's own parser instead.
 */
public final class SqlLexer {
  private SqlLexer() {}

  /** What a piece of SQL text is. */
  public enum Kind {
    CODE, LINE_COMMENT, BLOCK_COMMENT, STRING, QUOTED_NAME, DOLLAR_STRING;

    /** A comment of either kind. */
    public boolean comment() {
      return this == LINE_COMMENT || this == BLOCK_COMMENT;
    }

    /** A literal string of either kind. */
    public boolean string() {
      return this == STRING || this == DOLLAR_STRING;
    }
  }

  /** The characters {@code [start, end)} of the text, of one kind; {@code closed} is false only at the text's end. */
  public record Token(Kind kind, int start, int end, boolean closed) {
    /** This token's text out of {@code sql}, the text it was cut from. */
    public String text(String sql) {
      return sql.substring(start, end);
    }
  }

  /** The whole text as consecutive tokens; runs of code between quotes and comments are one token each. */
  public static List<Token> tokens(String sql) {
    Checks.notNull("sql", sql);
    List<Token> out = new ArrayList<>();
    int n = sql.length();
    int code = 0;
    int i = 0;
    while (i < n) {
      char c = sql.charAt(i);
      char next = i + 1 < n ? sql.charAt(i + 1) : 0;
      Kind kind = null;
      int end = -1;
      boolean closed = true;
      if (c == '-' && next == '-') {
        kind = Kind.LINE_COMMENT;
        int j = sql.indexOf('\n', i);
        end = j < 0 ? n : j;
      } else if (c == '/' && next == '*') {
        kind = Kind.BLOCK_COMMENT;
        int j = sql.indexOf("*/", i + 2);
        closed = j >= 0;
        end = closed ? j + 2 : n;
      } else if (c == '\'' || c == '"') {
        kind = c == '"' ? Kind.QUOTED_NAME : Kind.STRING;
        int j = closingQuote(sql, i, c, c == '\'' && escapes(sql, i));
        closed = j >= 0;
        end = closed ? j + 1 : n;
      } else if (c == '$' && (i == 0 || !nameChar(sql.charAt(i - 1)))) {
        int tagEnd = dollarTag(sql, i);
        if (tagEnd > 0) {
          kind = Kind.DOLLAR_STRING;
          String tag = sql.substring(i, tagEnd);
          int j = sql.indexOf(tag, tagEnd);
          closed = j >= 0;
          end = closed ? j + tag.length() : n;
        }
      }
      if (kind == null) {
        i++;
        continue;
      }
      if (code < i) {
        out.add(new Token(Kind.CODE, code, i, true));
      }
      out.add(new Token(kind, i, end, closed));
      i = end;
      code = end;
    }
    if (code < n) {
      out.add(new Token(Kind.CODE, code, n, true));
    }
    return out;
  }

  /**
   * Splits a script into its statements on {@code ;} outside quotes and comments; comments are dropped (a block
   * comment becomes one space), everything else is kept as written, each statement stripped.
   *
   * @throws IllegalArgumentException naming the statement's number when one is empty (two {@code ;} in a row) or has
   *     a block comment never closed, or when there is no statement at all
   */
  public static List<String> statements(String script) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (Token t : tokens(script)) {
      switch (t.kind()) {
        case LINE_COMMENT -> { }
        case BLOCK_COMMENT -> {
          if (!t.closed()) {
            throw new IllegalArgumentException("statement " + (out.size() + 1) + " has a /* comment that is never closed");
          }
          cur.append(' ');
        }
        case CODE -> {
          for (int i = t.start(); i < t.end(); i++) {
            char c = script.charAt(i);
            if (c != ';') {
              cur.append(c);
              continue;
            }
            if (cur.toString().isBlank()) {
              throw new IllegalArgumentException("statement " + (out.size() + 1) + " is empty");
            }
            out.add(cur.toString().strip());
            cur.setLength(0);
          }
        }
        default -> cur.append(script, t.start(), t.end());
      }
    }
    if (!cur.toString().isBlank()) {
      out.add(cur.toString().strip());
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("no SQL statements found");
    }
    return out;
  }

  private static boolean nameChar(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == '$';
  }

  /** A string opened at {@code i} after a standalone {@code E} or {@code e}: backslashes escape. */
  private static boolean escapes(String s, int i) {
    return i >= 1 && (s.charAt(i - 1) == 'E' || s.charAt(i - 1) == 'e') && (i == 1 || !nameChar(s.charAt(i - 2)));
  }

  /** Where the quote opened at {@code i} closes, or -1 when it does not. */
  private static int closingQuote(String s, int i, char quote, boolean backslash) {
    int j = i + 1;
    while (j < s.length()) {
      char c = s.charAt(j);
      if (backslash && c == '\\') {
        j += 2;
        continue;
      }
      if (c == quote) {
        if (j + 1 < s.length() && s.charAt(j + 1) == quote) {
          j += 2;
          continue;
        }
        return j;
      }
      j++;
    }
    return -1;
  }

  /** The end of a dollar-quote tag ({@code $$} or {@code $name$}) at {@code i}, or -1 when there is none. */
  private static int dollarTag(String s, int i) {
    int j = i + 1;
    if (j < s.length() && (Character.isLetter(s.charAt(j)) || s.charAt(j) == '_')) {
      while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
        j++;
      }
    }
    return j < s.length() && s.charAt(j) == '$' ? j + 1 : -1;
  }
}
