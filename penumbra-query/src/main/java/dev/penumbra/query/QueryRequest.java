package dev.penumbra.query;

import dev.penumbra.core.allocate.Sla;

/**
 * One query submitted to the {@link QueryGateway}.
 *
 * @param sql one read statement (SELECT / WITH)
 * @param user who submits it; names the reservation's owner
 * @param sla its priority (critical p99, standard p90, batch p50 sizing and queue order) and optional deadline
 */
public record QueryRequest(String sql, String user, Sla sla) {

  public QueryRequest {
    if (sql == null || sql.isBlank()) {
      throw new IllegalArgumentException("sql must not be blank, was " + (sql == null ? "null" : "'" + sql + "'"));
    }
    if (user == null || user.isBlank()) {
      throw new IllegalArgumentException("user must not be blank, was " + (user == null ? "null" : "'" + user + "'"));
    }
    if (sla == null) {
      throw new IllegalArgumentException("sla (priority) must not be null");
    }
  }
}
