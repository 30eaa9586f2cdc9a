package dev.penumbra.cluster;

import java.util.function.Consumer;

/** A state machine that tells of leader changes (both the ledger's and the bare one). */
interface LeaderEvents {

  /**
   * Adds a listener told, on Ratis' thread and at once, when this replica learns of a new leader ({@code "leader
   * ID"}) and when it leads and its first entry of the term is applied ({@code "ready"}). It must not block.
   */
  void onLeaderEvents(Consumer<String> listener);
}
