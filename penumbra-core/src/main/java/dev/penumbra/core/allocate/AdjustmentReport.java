package dev.penumbra.core.allocate;

import dev.penumbra.core.Resources;
import java.time.Instant;
import java.util.List;

/**
 * What one {@link Adjuster#adjust()} did.
 *
 * @param time the clock's instant of the pass
 * @param examined ACTIVE reservations with a measurement
 * @param reclaimed reservations shrunk after their headroom went unused for the grace period
 * @param extended reservations grown to cover an overrun
 * @param overruns reservations whose measured use stays above what they hold after the pass
 * @param totalReclaimed the sum of {@code reclaimed} amounts
 * @param totalExtended the sum of {@code extended} amounts
 * @param totalUncovered the sum of the overruns' uncovered amounts
 */
public record AdjustmentReport(
    Instant time,
    int examined,
    List<Reclaimed> reclaimed,
    List<Extended> extended,
    List<Overrun> overruns,
    Resources totalReclaimed,
    Resources totalExtended,
    Resources totalUncovered) {

  public AdjustmentReport {
    reclaimed = List.copyOf(reclaimed);
    extended = List.copyOf(extended);
    overruns = List.copyOf(overruns);
  }

  /** Headroom given back: {@code before - after} in the shrunk dimensions. */
  public record Reclaimed(long reservation, String owner, String node, Resources before, Resources after,
      Resources amount) {}

  /** Growth to cover an overrun: {@code after - before} in the grown dimensions. */
  public record Extended(long reservation, String owner, String node, Resources before, Resources after,
      Resources amount) {}

  /**
   * Measured use above what the reservation holds after the pass (the node had no room to extend it).
   *
   * @param used the measurement
   * @param reserved what it holds after the pass
   * @param uncovered {@code used - reserved}, per dimension, at least zero
   */
  public record Overrun(long reservation, String owner, String node, Resources used, Resources reserved,
      Resources uncovered) {}
}
