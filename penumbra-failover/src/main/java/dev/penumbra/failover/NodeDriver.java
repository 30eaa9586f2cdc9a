package dev.penumbra.failover;

/**
 * What the shadow-node manager and the workload orchestrator do to a kind of stateful node (PostgreSQL first:
 * {@link dev.penumbra.failover.pg.PgNodeDriver}). Every call names a node the driver knows, and fails with
 * {@link IllegalArgumentException} naming it otherwise. Calls for one node are not made concurrently.
 */
public interface NodeDriver {

  /** Whether the node's primary is up and answering (a health check, quick and bounded in time). */
  boolean healthy(String node);

  /** Starts a synchronous standby beside the node's primary, in sync, its cache pre-warmed. Blocks until ready. */
  void provisionStandby(String node) throws Exception;

  /** Stops and removes the node's standby; its primary no longer waits for it. */
  void decommissionStandby(String node) throws Exception;

  /**
   * Moves the node's work to its standby: fences the old primary (it never accepts writes again), promotes the
   * standby and redirects the node's clients to it.
   */
  void promoteStandby(String node) throws Exception;

  /**
   * Replaces a node that has no standby: fences the old primary and starts a new one from the non-local archive
   * (base backup + archived WAL), then redirects the node's clients. Slower, and loses what was not archived.
   */
  void replaceFromArchive(String node) throws Exception;
}
