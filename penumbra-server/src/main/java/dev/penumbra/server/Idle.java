package dev.penumbra.server;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * Waiting for work in flight to drain, woken by whoever ends work ({@link #changed()}) instead of polling: a stop
 * waits exactly until the last piece ends or the grace runs out.
 */
final class Idle {
  private final IntSupplier busy;

  /** {@code busy}: how much work is in flight now; whoever lowers it calls {@link #changed()} afterwards. */
  Idle(IntSupplier busy) {
    this.busy = busy;
  }

  /** Wakes the waiters to read the count again; call it after work ended (after the count went down). */
  synchronized void changed() {
    notifyAll();
  }

  /** Waits up to {@code grace} for nothing to be in flight; true when nothing is. */
  synchronized boolean await(Duration grace) throws InterruptedException {
    long end = System.nanoTime() + grace.toNanos();
    // The count is read while holding the monitor that changed() takes after lowering it: no wake-up is lost.
    while (busy.getAsInt() > 0) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }
}
