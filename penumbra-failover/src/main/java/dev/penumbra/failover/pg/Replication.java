package dev.penumbra.failover.pg;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * What the node driver asks a primary about its standbys: which are synchronous, and waits on
 * {@code pg_stat_replication} until one streams or is in sync (bounded, failing when the standby or the primary
 * exits); and the standby's cache filled with {@code pg_prewarm}.
 */
final class Replication {

  private Replication() {}

  /** The primary's synchronous standbys: the archive receiver, and the standby when there is one. */
  static void setSyncNames(PgServer primary, String standby) throws SQLException {
    String names = standby == null ? "\"" + WalReceiver.NAME + "\""
        : "FIRST 2 (\"" + standby + "\", \"" + WalReceiver.NAME + "\")";
    try (Connection c = primary.connect(); Statement st = c.createStatement()) {
      st.execute("ALTER SYSTEM SET synchronous_standby_names = '" + names + "'");
      st.execute("SELECT pg_reload_conf()");
    }
  }

  static void awaitSync(PgServer primary, String name, java.util.function.BooleanSupplier alive)
      throws SQLException, InterruptedException {
    awaitSync(primary, name, alive, 60);
  }

  static void awaitSync(PgServer primary, String name, java.util.function.BooleanSupplier alive,
      int seconds) throws SQLException, InterruptedException {
    try (Connection c = primary.connect()) {
      awaitSync(c, primary, name, alive, seconds);
    }
  }

  /** Waits until standby {@code name} of {@code primary} is in walsender state {@code state}. */
  static void awaitState(PgServer primary, String name, java.util.function.BooleanSupplier alive,
      String state, int seconds) throws SQLException, InterruptedException {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    try (Connection c = primary.connect(); PreparedStatement ps = c.prepareStatement(
        "SELECT 1 FROM pg_stat_replication WHERE application_name = ? AND state = ?")) {
      ps.setString(1, name);
      ps.setString(2, state);
      while (true) {
        if (!alive.getAsBoolean()) {
          throw new IllegalStateException("standby '" + name + "' of " + primary + " exited");
        }
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            return;
          }
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("standby '" + name + "' of " + primary + " not " + state + " after "
              + seconds + " s");
        }
        Thread.sleep(10);
      }
    }
  }

  /**
   * Polls {@code pg_stat_replication} on one open connection: a new connection per poll starts a backend each time,
   * which right after a promotion competes with the clients' first commits for the CPU.
   */
  static void awaitSync(Connection c, PgServer primary, String name,
      java.util.function.BooleanSupplier alive, int seconds) throws SQLException, InterruptedException {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT sync_state FROM pg_stat_replication WHERE application_name = ? AND state = 'streaming'")) {
      ps.setString(1, name);
      while (true) {
        if (!alive.getAsBoolean()) {
          throw new IllegalStateException("standby '" + name + "' of " + primary + " exited");
        }
        if (!primary.alive()) {
          throw new IllegalStateException(primary + " died while standby '" + name + "' was catching up");
        }
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next() && "sync".equals(rs.getString(1))) {
            return;
          }
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("standby '" + name + "' of " + primary + " not in sync after " + seconds
              + " s");
        }
        Thread.sleep(5);
      }
    }
  }

  static long prewarm(PgServer standby) throws SQLException {
    try (Connection c = standby.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT coalesce(sum(pg_prewarm(c.oid)), 0) FROM pg_class c"
            + " JOIN pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
