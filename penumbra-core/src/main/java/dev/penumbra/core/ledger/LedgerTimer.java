package dev.penumbra.core.ledger;

import dev.penumbra.core.Checks;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes time-driven ledger work happen on time rather than on the next touch: every {@code period} it expires
 * the leases due at the ledger's clock ({@link Ledger#expireDue()}) and runs the registered ticks (e.g. an
 * {@code Allocator::tick}, which fails requests whose deadline has come; an adjuster pass, which applies
 * grace-period shrinks). Due-ness is always judged on the ledger's clock, so a test that moves a
 * {@code ManualClock} sees the events within one period, and {@link #runOnce()} does one pass at once.
 * Thread-safe; {@link #close()} stops it.
 */
public final class LedgerTimer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LedgerTimer.class);

  private final Ledger ledger;
  private final List<Runnable> ticks = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService executor;

  private LedgerTimer(Ledger ledger) {
    this.ledger = ledger;
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "penumbra-ledger-timer");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Starts a timer over {@code ledger} that passes every {@code period} (> 0; the lateness of an expiry or a
   * deadline is at most one period).
   */
  public static LedgerTimer start(Ledger ledger, Duration period) {
    Checks.notNull("ledger", ledger);
    Checks.positive("period", period);
    LedgerTimer t = new LedgerTimer(ledger);
    long nanos = period.toNanos();
    t.executor.scheduleWithFixedDelay(t::runOnce, nanos, nanos, TimeUnit.NANOSECONDS);
    return t;
  }

  /** Adds work to run on every pass, after leases are expired (expired capacity is then free to admit). */
  public void add(Runnable tick) {
    Checks.notNull("tick", tick);
    ticks.add(tick);
  }

  /** Stops running {@code tick}; unknown ticks are ignored. */
  public void remove(Runnable tick) {
    ticks.remove(tick);
  }

  /** One pass now: expires due leases, then runs every tick. A failing tick is logged and the others still run. */
  public void runOnce() {
    try {
      ledger.expireDue();
    } catch (RuntimeException e) {
      LOG.warn("expiring due leases failed: {}", e.toString());
    }
    for (Runnable tick : ticks) {
      try {
        tick.run();
      } catch (RuntimeException e) {
        LOG.warn("a ledger timer tick failed: {}", e.toString());
      }
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
