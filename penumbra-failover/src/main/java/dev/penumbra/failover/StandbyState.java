package dev.penumbra.failover;

/** Where a node's standby is in its lifecycle. */
public enum StandbyState {
  /** No standby. */
  NONE,
  /** Reserved WARM in the ledger; base backup, catch-up and pre-warm under way. */
  PROVISIONING,
  /** In sync, pre-warmed, ready to be promoted. */
  READY,
  /** Being removed. */
  DECOMMISSIONING,
  /** The node's work is being moved (promotion or replacement from the archive). */
  MOVING
}
