package dev.penumbra.core.allocate;

import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.NodeView;
import java.util.List;
import java.util.Optional;

/** The built-in placements. */
enum Fit implements Placement {
  FIRST,
  BEST,
  WORST;

  @Override
  public Optional<NodeView> choose(Resources amount, List<NodeView> nodes) {
    NodeView chosen = null;
    double chosenShare = 0;
    for (NodeView n : nodes) {
      Resources free = n.free();
      if (!amount.fits(free)) {
        continue;
      }
      if (this == FIRST) {
        return Optional.of(n);
      }
      // The dominant share of what would be left free: max over dimensions of left / capacity.
      double left = free.minus(amount).dominantShare(n.capacity());
      if (chosen == null || (this == BEST ? left < chosenShare : left > chosenShare)) {
        chosen = n;
        chosenShare = left;
      }
    }
    return Optional.ofNullable(chosen);
  }
}
