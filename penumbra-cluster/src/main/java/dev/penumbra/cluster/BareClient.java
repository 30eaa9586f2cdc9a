package dev.penumbra.cluster;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * A client of a group of bare replicas ({@link ClusterReplica#startBare}): each {@link #write} is one log entry
 * of a few bytes, sent as the ledger's client sends its batches (Ratis' asynchronous client, the same retry
 * policy and timeouts), and returns once the entry is committed and applied on the leader. It measures the
 * engine without the ledger; it is thread-safe.
 */
public final class BareClient implements AutoCloseable {

  private static final Message PAYLOAD = Message.valueOf(ByteString.copyFrom(new byte[64]));

  private final RaftClient raft;

  private BareClient(RaftClient raft) {
    this.raft = raft;
  }

  public static BareClient connect(List<ClusterPeer> peers, Duration electionTimeoutMin) {
    return new BareClient(Raft.client(peers, electionTimeoutMin));
  }

  /** Commits one entry; fails when it is not committed within {@code timeout}. */
  public void write(Duration timeout) throws IOException {
    try {
      RaftClientReply r = raft.async().send(PAYLOAD).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!r.isSuccess()) {
        throw new IOException("write failed: " + r.getException());
      }
    } catch (ExecutionException e) {
      throw new IOException("write failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new IOException("write not committed within " + timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
  }

  @Override
  public void close() throws IOException {
    raft.close();
  }
}
