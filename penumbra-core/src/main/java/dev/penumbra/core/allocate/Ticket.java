package dev.penumbra.core.allocate;

import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * A request to the {@link Allocator}: completes with the reservation once placed, or fails with
 * {@link DeadlineExceededException} (deadline passed while waiting),
 * {@link dev.penumbra.core.ledger.InsufficientCapacityException} (no node could ever hold it) or
 * {@link IllegalStateException} (the allocator was closed). {@link #cancel()} withdraws it; a reservation made
 * for a ticket cancelled at the same moment is released.
 */
public final class Ticket {

  private final long id;
  private final long sequence;
  private final Allocator allocator;
  private final String owner;
  private final Resources amount;
  private final Sla sla;
  private final Instant arrival;
  private final CompletableFuture<Reservation> future = new CompletableFuture<>();
  // Set once, before it joins the queue, by an allocator with virtual deadlines; the arrival otherwise.
  private volatile Instant virtualDeadline;

  Ticket(long id, String owner, Resources amount, Sla sla, Instant arrival, Allocator allocator) {
    this.id = id;
    this.sequence = Admission.nextSequence();
    this.allocator = allocator;
    this.owner = owner;
    this.amount = amount;
    this.sla = sla;
    this.arrival = arrival;
    this.virtualDeadline = arrival;
    // Cancelling the future directly is the same as cancel(): the allocator forgets it and re-admits.
    future.whenComplete((r, ex) -> {
      if (future.isCancelled()) {
        allocator.cancelled(this);
      }
    });
  }

  /** The allocator's number for it, increasing with arrival. */
  public long id() {
    return id;
  }

  /** Arrival order across every allocator of the process. */
  long sequence() {
    return sequence;
  }

  Allocator allocator() {
    return allocator;
  }

  public String owner() {
    return owner;
  }

  /** The size it reserves (the demand at the priority's quantile). */
  public Resources amount() {
    return amount;
  }

  public Sla sla() {
    return sla;
  }

  /** When it was requested (allocator clock). */
  public Instant arrival() {
    return arrival;
  }

  /**
   * Arrival plus the slack its allocator gave it ({@link Allocator.Builder#virtualDeadlines}); the arrival when
   * the allocator admits by priority.
   */
  public Instant virtualDeadline() {
    return virtualDeadline;
  }

  void virtualDeadline(Instant at) {
    this.virtualDeadline = at;
  }

  public CompletableFuture<Reservation> future() {
    return future;
  }

  /** Withdraws it if not yet placed; true when this call cancelled it. */
  public boolean cancel() {
    return future.cancel(false);
  }

  public boolean isDone() {
    return future.isDone();
  }

  @Override
  public String toString() {
    return "request " + id + " of owner '" + owner + "' for " + amount + " at " + sla.priority().label();
  }
}
