package dev.penumbra.query.shadow;

import java.sql.Connection;
import java.sql.SQLException;

/** Opens a connection to the primary DuckDB database; the caller closes it. */
@FunctionalInterface
public interface ConnectionSource {
  Connection open() throws SQLException;
}
