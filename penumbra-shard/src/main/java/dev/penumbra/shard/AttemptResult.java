package dev.penumbra.shard;

import dev.penumbra.core.Resources;
import java.time.Duration;

/**
 * What a backend reports for an attempt.
 *
 * @param attemptId the attempt
 * @param backend where it ran
 * @param value the shard's partial result when it succeeded, else null
 * @param error why it failed, else null
 * @param used resources it used (measured), ZERO when unknown
 * @param ran how long it ran
 */
public record AttemptResult(String attemptId, String backend, Object value, String error, Resources used, Duration ran) {

  public boolean succeeded() {
    return error == null;
  }

  public static AttemptResult success(String attemptId, String backend, Object value, Resources used, Duration ran) {
    return new AttemptResult(attemptId, backend, value, null, used, ran);
  }

  public static AttemptResult failure(String attemptId, String backend, String error, Duration ran) {
    return new AttemptResult(attemptId, backend, null, error == null ? "failed" : error, Resources.ZERO, ran);
  }
}
