package dev.penumbra.query.engine;

import java.sql.Connection;
import java.sql.SQLException;

/** What the PostgreSQL engine and the PostgreSQL sample both do with the sessions they hold. */
public final class Sessions {
  private Sessions() {}

  /** Closes every session, best effort: one that fails to close does not keep the others open. */
  public static void closeAll(Iterable<Connection> sessions) {
    for (Connection c : sessions) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // Best effort: the server drops the session with the socket anyway.
      }
    }
  }
}
