package dev.penumbra.query.shadow;

import java.time.Duration;

/**
 * Where a query's sample run is made. The gateway's own {@link ShadowEngine} is the local site and the default;
 * another site (shadow workers in other processes, see the server) wraps it and may hand a shadow back to it.
 */
@FunctionalInterface
public interface ShadowSite {

  /**
   * Plans {@code sql} and runs it on a sample with the run cut off at {@code cap}, as {@link
   * ShadowEngine#shadow(String, Duration)} does.
   *
   * @throws QueryRejectedException when the query is not a single read statement or the engine rejects it
   */
  ShadowResult shadow(String sql, Duration cap);
}
