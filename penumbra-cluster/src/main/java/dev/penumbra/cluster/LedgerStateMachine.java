package dev.penumbra.cluster;

import dev.penumbra.core.ledger.LedgerEvent;
import dev.penumbra.core.ledger.LedgerSnapshot;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger as a Ratis state machine: each log entry is a batch of ledger operations from one client session,
 * applied in order at the instants they carry. Client sessions make retries idempotent: an operation whose
 * (client, sequence) was already applied is answered from the session's remembered outcome, not applied
 * again, also on a new leader (sessions are replicated state and part of snapshots). Snapshots hold the whole
 * ledger and the sessions. With {@code audit} on, the per-node invariant is recomputed from the reservations
 * after every applied entry and any breach is recorded (tests read it).
 */
public final class LedgerStateMachine extends BaseStateMachine implements LeaderEvents {

  private static final Logger LOG = LoggerFactory.getLogger(LedgerStateMachine.class);
  static final byte QUERY_EVENTS = 1;
  static final byte QUERY_STATUS = 2;
  /** A session unseen for this long (ledger time) is forgotten; its client is long gone. */
  static final Duration SESSION_IDLE = Duration.ofMinutes(10);
  private static final int SNAPSHOT_FORMAT = 1;

  /** What one client session's operations gave, kept until the client says it has them. */
  static final class Session {
    final TreeMap<Long, Outcome> outcomes = new TreeMap<>();
    Instant lastSeen;

    Session(Instant lastSeen) {
      this.lastSeen = lastSeen;
    }
  }

  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  private final boolean audit;
  private final Object lock = new Object();
  private LedgerState state = new LedgerState();
  private final Map<String, Session> sessions = new HashMap<>();
  private final AtomicLong invariantChecks = new AtomicLong();
  private final AtomicLong duplicatesAnswered = new AtomicLong();
  private volatile String invariantBreach;
  /** Null unless stage timing is on ({@link #recordStages}). */
  private volatile CommitStages stages;

  /** A state machine without the per-entry audit (production). */
  public LedgerStateMachine() {
    this(false);
  }

  /** @param audit recompute the per-node invariant from scratch after every applied entry */
  public LedgerStateMachine(boolean audit) {
    this.audit = audit;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
    getLifeCycle().startAndTransition(() -> {
      super.initialize(server, groupId, raftStorage);
      storage.init(raftStorage);
      load(storage.loadLatestSnapshot());
    }, IOException.class);
  }

  /**
   * Ratis pauses the state machine before it puts a snapshot received from the leader in place (a follower that
   * fell behind the leader's purged log, or came back without its data), and reloads it only from the paused
   * state: without this, the follower's Ratis server closed itself on the snapshot and the leader could never
   * reach it again (docs/cluster.md, "A follower the leader stops reaching").
   */
  @Override
  public void pause() {
    synchronized (lock) {
      if (getLifeCycleState() == LifeCycle.State.RUNNING) {
        getLifeCycle().transition(LifeCycle.State.PAUSING);
        getLifeCycle().transition(LifeCycle.State.PAUSED);
      }
    }
  }

  /** Loads the snapshot Ratis has just put in place (see {@link #pause}) and runs again. */
  @Override
  public void reinitialize() throws IOException {
    synchronized (lock) {
      load(storage.loadLatestSnapshot());
      if (getLifeCycleState() == LifeCycle.State.PAUSED) {
        getLifeCycle().transition(LifeCycle.State.STARTING);
        getLifeCycle().transition(LifeCycle.State.RUNNING);
      }
    }
  }

  @Override
  public SimpleStateMachineStorage getStateMachineStorage() {
    return storage;
  }

  @Override
  public void onLeaderEvents(java.util.function.Consumer<String> listener) {
    leaderEvents.add(listener);
  }

  private final java.util.List<java.util.function.Consumer<String>> leaderEvents =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  @Override
  public void notifyLeaderChanged(org.apache.ratis.protocol.RaftGroupMemberId member,
      org.apache.ratis.protocol.RaftPeerId newLeader) {
    leaderEvents.forEach(l -> l.accept("leader " + newLeader));
  }

  @Override
  public void notifyLeaderReady() {
    leaderEvents.forEach(l -> l.accept("ready"));
  }

  /** Records where the time of each commit goes while this replica leads (diagnosis; off by default). */
  void recordStages(CommitStages s) {
    stages = s;
  }

  CommitStages stages() {
    return stages;
  }

  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    TransactionContext trx = super.startTransaction(request);
    if (stages != null) {
      trx.setStateMachineContext(new long[] {System.nanoTime(), 0});
    }
    return trx;
  }

  @Override
  public TransactionContext preAppendTransaction(TransactionContext trx) throws IOException {
    if (trx.getStateMachineContext() instanceof long[] t) {
      t[1] = System.nanoTime();
    }
    return trx;
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    long applyStart = System.nanoTime();
    try {
      return apply(trx);
    } finally {
      CommitStages s = stages;
      if (s != null && trx.getStateMachineContext() instanceof long[] t) {
        s.record(trx.getLogEntry().getIndex(), t[0], t[1], applyStart, System.nanoTime());
      }
    }
  }

  private CompletableFuture<Message> apply(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    Codec.Batch batch;
    try {
      batch = Codec.decodeBatch(new DataInputStream(
          entry.getStateMachineLogEntry().getLogData().newInput()));
    } catch (IOException | RuntimeException e) {
      // A malformed entry is skipped the same way on every replica.
      LOG.warn("log entry {} is not a ledger batch and is skipped: {}", entry.getIndex(), e.toString());
      synchronized (lock) {
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
      }
      return CompletableFuture.failedFuture(e);
    }
    List<Outcome> outcomes = new ArrayList<>(batch.ops().size());
    synchronized (lock) {
      Instant entryTime = batch.ops().isEmpty() ? state.time() : batch.ops().get(0).time();
      Session session = sessions.computeIfAbsent(batch.client(), c -> new Session(entryTime));
      session.outcomes.headMap(batch.ackedBelow()).clear();
      for (Codec.Op op : batch.ops()) {
        Outcome known = session.outcomes.get(op.seq());
        if (known != null) {
          duplicatesAnswered.incrementAndGet();
          outcomes.add(known);
          continue;
        }
        if (op.seq() < batch.ackedBelow()) {
          // The client said it had this one's outcome already: a stale resend, never applied twice.
          outcomes.add(Outcome.failed(new IllegalStateException("operation " + op.seq() + " of client "
              + batch.client() + " was already applied"), List.of()));
          continue;
        }
        Outcome o = state.apply(op.command(), op.time());
        session.outcomes.put(op.seq(), o);
        outcomes.add(o);
      }
      session.lastSeen = state.time();
      if ((entry.getIndex() & 1023) == 0) {
        forgetIdleSessions();
      }
      updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
      if (audit) {
        invariantChecks.incrementAndGet();
        String breach = state.checkInvariant();
        if (breach != null && invariantBreach == null) {
          invariantBreach = "at index " + entry.getIndex() + " on " + getId() + ": " + breach;
        }
      }
    }
    return CompletableFuture.completedFuture(Message.valueOf(
        org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(
            Codec.encodeReply(new Codec.Reply(outcomes)))));
  }

  private void forgetIdleSessions() {
    Instant cutoff = state.time().minus(SESSION_IDLE);
    for (Iterator<Session> it = sessions.values().iterator(); it.hasNext(); ) {
      if (it.next().lastSeen.isBefore(cutoff)) {
        it.remove();
      }
    }
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    try {
      DataInputStream in = new DataInputStream(request.getContent().newInput());
      byte kind = in.readByte();
      byte[] out;
      synchronized (lock) {
        if (kind == QUERY_EVENTS) {
          long after = in.readLong();
          List<LedgerEvent> events = state.eventsAfter(after);
          out = Codec.encodeEvents(events);
        } else if (kind == QUERY_STATUS) {
          long seq = state.sequence();
          long applied = getLastAppliedTermIndex().getIndex();
          out = Codec.write(o -> {
            o.writeLong(seq);
            o.writeLong(applied);
          });
        } else {
          throw new IOException("unknown query kind " + kind);
        }
      }
      return CompletableFuture.completedFuture(Message.valueOf(
          org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(out)));
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public long takeSnapshot() throws IOException {
    byte[] bytes;
    TermIndex last;
    synchronized (lock) {
      last = getLastAppliedTermIndex();
      if (last == null || last.getIndex() < 0) {
        return -1;
      }
      LedgerState s = state;
      Map<String, Session> ss = sessions;
      bytes = Codec.write(out -> {
        out.writeInt(SNAPSHOT_FORMAT);
        s.writeTo(out);
        out.writeInt(ss.size());
        for (Map.Entry<String, Session> e : ss.entrySet()) {
          out.writeUTF(e.getKey());
          Codec.writeInstant(out, e.getValue().lastSeen);
          out.writeInt(e.getValue().outcomes.size());
          for (Map.Entry<Long, Outcome> o : e.getValue().outcomes.entrySet()) {
            out.writeLong(o.getKey());
            Codec.writeOutcome(out, o.getValue());
          }
        }
      });
    }
    File file = storage.getSnapshotFile(last.getTerm(), last.getIndex());
    File tmp = new File(file.getParentFile(), file.getName() + ".tmp");
    Files.write(tmp.toPath(), bytes);
    Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    storage.updateLatestSnapshot(new SingleFileSnapshotInfo(
        new FileInfo(file.toPath(), MD5FileUtil.computeAndSaveMd5ForFile(file)), last));
    return last.getIndex();
  }

  private void load(SingleFileSnapshotInfo snapshot) throws IOException {
    if (snapshot == null) {
      return;
    }
    File file = snapshot.getFile().getPath().toFile();
    if (snapshot.getFile().getFileDigest() != null) {
      MD5FileUtil.verifySavedMD5(file, snapshot.getFile().getFileDigest());
    }
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file.toPath()));
        DataInputStream in = new DataInputStream(raw)) {
      int format = in.readInt();
      if (format != SNAPSHOT_FORMAT) {
        throw new IOException("snapshot " + file + " has format " + format + ", expected " + SNAPSHOT_FORMAT);
      }
      LedgerState s = LedgerState.readFrom(in);
      Map<String, Session> ss = new HashMap<>();
      int n = in.readInt();
      for (int i = 0; i < n; i++) {
        String client = in.readUTF();
        Session session = new Session(Codec.readInstant(in));
        int k = in.readInt();
        for (int j = 0; j < k; j++) {
          session.outcomes.put(in.readLong(), Codec.readOutcome(in));
        }
        ss.put(client, session);
      }
      synchronized (lock) {
        state = s;
        sessions.clear();
        sessions.putAll(ss);
        setLastAppliedTermIndex(snapshot.getTermIndex());
      }
    }
    LOG.info("{} loaded snapshot {} (ledger sequence {})", getId(), snapshot.getTermIndex(), state.sequence());
  }

  // ---------------------------------------------------------------- what tests and status read

  /** The first breach of the per-node invariant seen by the audit, or null. */
  public String invariantBreach() {
    return invariantBreach;
  }

  /** How many applied entries the audit checked. */
  public long invariantChecks() {
    return invariantChecks.get();
  }

  /** How many retried operations were answered from a session instead of being applied again. */
  public long duplicatesAnswered() {
    return duplicatesAnswered.get();
  }

  /** This replica's ledger sequence (number of changes applied). */
  public long ledgerSequence() {
    synchronized (lock) {
      return state.sequence();
    }
  }

  /** This replica's nodes and live reservations as of its last applied entry (not linearizable: for checks). */
  public LedgerSnapshot localSnapshot() {
    synchronized (lock) {
      return state.localSnapshot();
    }
  }
}
