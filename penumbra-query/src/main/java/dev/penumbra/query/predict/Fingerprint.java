package dev.penumbra.query.predict;

import dev.penumbra.core.Checks;
import dev.penumbra.query.SqlLexer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The shape of a query with its parameters removed. Normalisation ({@link SqlLexer} cuts the text): comments
 * dropped; string literals (dollar-quoted ones too) become {@code '?'}; numeric literals (integers, decimals,
 * exponents, not parts of identifiers) become {@code ?} — so the literal's type stays part of the shape
 * ({@code x = 5} and {@code x = '5'} differ); runs of whitespace become one space; everything outside quoted identifiers is lower-cased; a trailing semicolon
 * is dropped. Two queries differing only in literal values, spacing or keyword case share a fingerprint.
 */
public final class Fingerprint {
  private Fingerprint() {}

  /** The normalised SQL text. */
  public static String normalize(String sql) {
    Checks.notNull("sql", sql);
    StringBuilder out = new StringBuilder(sql.length());
    boolean space = false;
    for (SqlLexer.Token t : SqlLexer.tokens(sql)) {
      if (t.kind().comment()) {
        space = true;
        continue;
      }
      if (t.kind() != SqlLexer.Kind.CODE) {
        if (space && !out.isEmpty()) {
          out.append(' ');
        }
        space = false;
        if (t.kind().string()) {
          out.append("'?'");
        } else {
          out.append(sql, t.start(), t.end());
        }
        continue;
      }
      int n = t.end();
      int i = t.start();
      while (i < n) {
        char c = sql.charAt(i);
        if (Character.isWhitespace(c)) {
          space = true;
          i++;
          continue;
        }
        if (space && !out.isEmpty()) {
          out.append(' ');
        }
        space = false;
        if (Character.isDigit(c) || c == '.' && i + 1 < n && Character.isDigit(sql.charAt(i + 1))) {
          boolean partOfName = !out.isEmpty() && isNameChar(out.charAt(out.length() - 1));
          int j = i;
          while (j < n && (Character.isDigit(sql.charAt(j)) || sql.charAt(j) == '.')) {
            j++;
          }
          if (j < n && (sql.charAt(j) == 'e' || sql.charAt(j) == 'E') && j + 1 < n
              && (Character.isDigit(sql.charAt(j + 1)) || sql.charAt(j + 1) == '-' || sql.charAt(j + 1) == '+')) {
            j += 2;
            while (j < n && Character.isDigit(sql.charAt(j))) {
              j++;
            }
          }
          if (partOfName) {
            out.append(sql, i, j);
          } else {
            out.append('?');
          }
          i = j;
        } else {
          out.append(Character.toLowerCase(c));
          i++;
        }
      }
    }
    String s = out.toString().strip();
    while (s.endsWith(";")) {
      s = s.substring(0, s.length() - 1).strip();
    }
    return s;
  }

  /**
   * A 16-hex-digit digest (SHA-256 prefix) of the normalised SQL. The gateway computes it once per query and hands
   * it to the gate, the predictor and the learn step.
   */
  public static String of(String sql) {
    return digest(sql);
  }

  private static String digest(String sql) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(normalize(sql).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  private static boolean isNameChar(char c) {
    return Character.isLetterOrDigit(c) || c == '_';
  }
}
