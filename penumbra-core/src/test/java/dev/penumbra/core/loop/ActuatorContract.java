package dev.penumbra.core.loop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Actuator} must do, run on each implementation (the query engine envelope, the stream workers,
 * the shard backend slots, the task grant pool, {@link Actuator#NONE}): acquiring makes a reservation real and
 * releasing gives all of it back; releasing twice, or releasing what was never acquired, changes nothing; resizing
 * to the amount already held is a no-op; resizing follows the amount both ways; a resize arriving after the
 * release does not bring the resource back. An implementation states what its real resource is now
 * ({@link #realState()}) and which reservations it takes ({@link #reservation}).
 */
public abstract class ActuatorContract {

  /** The actuator under test, fresh for each test. */
  protected Actuator actuator;

  /** A fresh actuator; called before each test. */
  protected abstract Actuator create() throws Exception;

  /**
   * What the actuator has made real now, as a value compared with {@code equals}: the amounts it holds per
   * reservation, the workers per partition, the units per task.
   */
  protected abstract Object realState() throws Exception;

  /** A reservation of {@code amount} this actuator can take: owner and node as it expects them. */
  protected Reservation reservation(long id, Resources amount) {
    return new Reservation(id, "contract/p" + id, "n1", amount, Priority.STANDARD, Reservation.State.ACTIVE,
        Instant.EPOCH, Instant.EPOCH.plusSeconds(60));
  }

  /** A small amount for this actuator's unit (at least one of its units). */
  protected Resources small() {
    return Resources.of(2000, 64L << 20);
  }

  /** A larger amount than {@link #small()} in every dimension this actuator acts on. */
  protected Resources large() {
    return Resources.of(4000, 128L << 20);
  }

  /** False for an actuator that actuates nothing (its state never changes). */
  protected boolean actuates() {
    return true;
  }

  @BeforeEach
  void createActuator() throws Exception {
    actuator = create();
  }

  /**
   * The reservation as the books hold it after a resize to {@code amount}; an implementation that reads the
   * ledger resizes it there too.
   */
  protected Reservation resized(Reservation r, Resources amount) {
    return new Reservation(r.id(), r.owner(), r.node(), amount, r.priority(), r.state(), r.created(),
        r.leaseExpiry());
  }

  /** The reservation as the books hold it once it ended; an implementation that reads the ledger releases it there. */
  protected Reservation ended(Reservation r) {
    return new Reservation(r.id(), r.owner(), r.node(), r.amount(), r.priority(), Reservation.State.RELEASED,
        r.created(), r.leaseExpiry());
  }

  @Test
  void acquisitionLagIsKnownAndNotNegative() {
    assertThat(actuator.acquisitionLag()).isNotNull();
    assertThat(actuator.acquisitionLag().isNegative()).isFalse();
  }

  @Test
  void acquireMakesTheReservationRealAndReleaseGivesAllOfItBack() throws Exception {
    Object before = realState();
    Reservation r = reservation(1, small());
    actuator.acquire(r);
    if (actuates()) {
      assertThat(realState()).as("after acquire").isNotEqualTo(before);
    }
    actuator.release(ended(r));
    assertThat(realState()).as("after release").isEqualTo(before);
  }

  @Test
  void releaseIsIdempotent() throws Exception {
    Object before = realState();
    Reservation r = reservation(1, small());
    actuator.acquire(r);
    Reservation gone = ended(r);
    actuator.release(gone);
    actuator.release(gone);
    assertThat(realState()).isEqualTo(before);
  }

  @Test
  void releasingWhatWasNeverAcquiredChangesNothing() throws Exception {
    Reservation held = reservation(1, small());
    actuator.acquire(held);
    Object before = realState();
    actuator.release(ended(reservation(2, small())));
    assertThat(realState()).isEqualTo(before);
    actuator.release(ended(held));
  }

  @Test
  void resizeToTheAmountHeldIsANoOp() throws Exception {
    Reservation r = reservation(1, small());
    actuator.acquire(r);
    Object held = realState();
    actuator.resize(r, r.amount());
    assertThat(realState()).isEqualTo(held);
    actuator.release(ended(r));
  }

  @Test
  void resizeFollowsTheAmountUpAndBackDown() throws Exception {
    Reservation r = reservation(1, small());
    actuator.acquire(r);
    Object atSmall = realState();
    actuator.resize(resized(r, large()), large());
    if (actuates()) {
      assertThat(realState()).as("grown").isNotEqualTo(atSmall);
    }
    actuator.resize(resized(r, small()), small());
    assertThat(realState()).as("shrunk back").isEqualTo(atSmall);
    actuator.release(ended(r));
  }

  @Test
  void aResizeAfterTheReleaseDoesNotBringTheResourceBack() throws Exception {
    Object before = realState();
    Reservation r = reservation(1, small());
    actuator.acquire(r);
    actuator.release(ended(r));
    // A late callback: it carries the reservation as it was when resized (still live); the books say it ended.
    Reservation late = new Reservation(r.id(), r.owner(), r.node(), large(), r.priority(), r.state(), r.created(),
        r.leaseExpiry());
    actuator.resize(late, large());
    assertThat(realState()).isEqualTo(before);
  }

  @Test
  void reservationsAreIndependent() throws Exception {
    Object before = realState();
    Reservation a = reservation(1, small());
    Reservation b = reservation(2, small());
    actuator.acquire(a);
    Object onlyA = realState();
    actuator.acquire(b);
    actuator.release(ended(b));
    assertThat(realState()).as("a alone again").isEqualTo(onlyA);
    actuator.release(ended(a));
    assertThat(realState()).isEqualTo(before);
  }
}
