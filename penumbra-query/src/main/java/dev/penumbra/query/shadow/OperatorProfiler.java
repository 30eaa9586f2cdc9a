package dev.penumbra.query.shadow;

import java.sql.SQLException;
import java.time.Duration;

/**
 * Profiles a query on a sample held by the primary engine itself and scales the profile to the full data per
 * operator, for a primary other than the embedded DuckDB (whose own sample the {@link ShadowEngine} runs). When a
 * shadow engine has one, its {@link ShadowResult#operators()} come from it.
 */
public interface OperatorProfiler {

  /**
   * The query's sample run scaled to the full data, or null when the sample cannot say (no plan times).
   *
   * @param sql a single read statement (the shadow engine checked it before)
   * @param cap the longest the sample run may take
   * @throws SQLException when the engine fails or cancels the sample run
   */
  ScaledProfile profile(String sql, Duration cap) throws SQLException;
}
