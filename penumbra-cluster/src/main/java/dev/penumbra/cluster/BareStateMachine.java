package dev.penumbra.cluster;

import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;

/**
 * A state machine that applies nothing: each entry only moves the applied index and is answered with an empty
 * message. With it a replica is Ratis alone (the same transport, log and timeouts as the ledger's), so the
 * engine's own commit latency and failover on a machine can be measured beside the ledger's ({@code penumbra
 * bench cluster --bare}). It tells the same leader events as {@link LedgerStateMachine}.
 */
final class BareStateMachine extends BaseStateMachine implements LeaderEvents {

  private final java.util.List<java.util.function.Consumer<String>> leaderEvents =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  @Override
  public void onLeaderEvents(java.util.function.Consumer<String> listener) {
    leaderEvents.add(listener);
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId newLeader) {
    leaderEvents.forEach(l -> l.accept("leader " + newLeader));
  }

  @Override
  public void notifyLeaderReady() {
    leaderEvents.forEach(l -> l.accept("ready"));
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
    return CompletableFuture.completedFuture(Message.EMPTY);
  }
}
