package dev.penumbra.query.engine;

import java.util.Locale;

/** What the PostgreSQL engine and the PostgreSQL sample both do to a JDBC URL. */
public final class JdbcUrls {
  private JdbcUrls() {}

  /**
   * {@code url} without its {@code user} and {@code password} parameters (any case), so that a connection made with
   * other credentials cannot fall back to the URL's.
   */
  public static String withoutCredentials(String url) {
    int q = url.indexOf('?');
    if (q < 0) {
      return url;
    }
    StringBuilder kept = new StringBuilder();
    for (String param : url.substring(q + 1).split("&")) {
      String key = param.split("=", 2)[0].toLowerCase(Locale.ROOT);
      if (!key.equals("user") && !key.equals("password") && !param.isEmpty()) {
        kept.append(kept.isEmpty() ? "?" : "&").append(param);
      }
    }
    return url.substring(0, q) + kept;
  }
}
