package dev.penumbra.core;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/** Waiting on work handed to another thread that cannot be stopped once it runs (native code, DuckDB). */
public final class Futures {

  private Futures() {}

  /**
   * The result of {@code future}, waited for without giving up when the caller is interrupted: the work it waits on
   * does not listen to interrupts, so leaving early would only leave it running unobserved. An interrupt received
   * while waiting is set again on the caller's thread before this returns.
   *
   * @throws RuntimeException or Error as the work threw it; a checked exception wrapped in IllegalStateException
   */
  public static <T> T getUninterruptibly(Future<T> future) {
    Checks.notNull("future", future);
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return future.get();
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          Throwable cause = e.getCause();
          if (cause instanceof RuntimeException r) {
            throw r;
          }
          if (cause instanceof Error err) {
            throw err;
          }
          throw new IllegalStateException(cause);
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
