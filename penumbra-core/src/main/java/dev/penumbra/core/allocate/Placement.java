package dev.penumbra.core.allocate;

import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.NodeView;
import java.util.List;
import java.util.Optional;

/** Chooses the node a reservation goes on, among those whose free capacity holds it. */
@FunctionalInterface
public interface Placement {

  /**
   * @param amount what is to be reserved
   * @param nodes every node, in the ledger's order (the order they were added)
   * @return a node whose free capacity holds {@code amount}, or empty when none does (or none is wanted)
   */
  Optional<NodeView> choose(Resources amount, List<NodeView> nodes);

  /** The node left with the least dominant free share (the tightest fit); ties go to the earlier node. */
  static Placement bestFit() {
    return Fit.BEST;
  }

  /** The first node (in ledger order) that holds it. */
  static Placement firstFit() {
    return Fit.FIRST;
  }

  /** The node left with the most dominant free share (spreads load); ties go to the earlier node. */
  static Placement worstFit() {
    return Fit.WORST;
  }
}
