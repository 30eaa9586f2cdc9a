package dev.penumbra.cluster;

import java.util.List;

/**
 * What one replica knows of the group.
 *
 * @param self this replica's id
 * @param role LEADER, FOLLOWER, CANDIDATE (or what Ratis reports)
 * @param leader the leader's id as this replica knows it, null when there is none
 * @param term the current Raft term
 * @param commitIndex this replica's commit index
 * @param appliedIndex the last log index its state machine applied
 * @param ledgerSequence how many ledger changes its state machine applied
 * @param members every replica with the commit index this replica last heard of and its lag behind this one
 */
public record ClusterStatus(
    String self,
    String role,
    String leader,
    long term,
    long commitIndex,
    long appliedIndex,
    long ledgerSequence,
    List<Member> members) {

  public ClusterStatus {
    members = List.copyOf(members);
  }

  /**
   * @param id the replica's id
   * @param address host:port
   * @param commitIndex its commit index as last heard (-1 when unknown)
   * @param lag entries behind this replica's commit index (-1 when unknown)
   */
  public record Member(String id, String address, long commitIndex, long lag) {}
}
