package dev.penumbra.cluster;

import dev.penumbra.cluster.Command.Op;
import dev.penumbra.core.Checks;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.LedgerEvent;
import dev.penumbra.core.ledger.LedgerListener;
import dev.penumbra.core.ledger.LedgerSnapshot;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Preemption;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.ledger.Reservation.State;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Ledger} whose state lives in a Raft group of {@link LedgerStateMachine}s. Every operation, reads
 * included (a read expires due leases, a change), goes through the Raft log, so all are linearizable. Calls
 * from many threads are gathered into batches (one log entry each, several in flight) for throughput; each
 * operation carries this client's session id, a sequence number and this client's clock instant. A batch that
 * fails (leader lost, timeout) is sent again as is until {@link Options#timeout()}: the state machine answers
 * an operation it already applied from the session instead of applying it twice.
 *
 * <p>Listeners receive every change of the replicated ledger in sequence order, those made through other
 * clients too: the events of this client's own operations come with their outcomes (delivered before the call
 * returns, as the in-memory ledger does), gaps are filled by a read of the state machine's recent events, and
 * a poll picks up changes made elsewhere.
 *
 * <p>About 600 lines: every {@code Ledger} operation, the batching of calls into log entries, resends under a
 * deadline, ordered event delivery and the colocated path to a local leader meet here, on one client session.
 */
public final class ClusterLedger implements Ledger, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterLedger.class);

  /**
   * How the client batches and retries.
   *
   * @param maxBatch most operations per log entry
   * @param maxInFlight most batches sent and not yet answered (default 2: one entry commits while the next fills.
   *     The replicas' cost is mostly per operation and per entry, so fewer, larger entries carry more operations per
   *     CPU second: measured 3.5x less CPU per operation than with 8 in flight at 256 clients)
   * @param timeout how long an operation may take, retries included, before it fails
   * @param pollInterval how often listeners are brought up to date with changes made through other clients
   * @param directSend whether an operation that finds nothing waiting and an entry free is sent by its caller's
   *     thread at once, instead of being handed to the sender thread: one thread hand-off less per commit when the
   *     client is not busy. Off by default: with one client on the loaded 2-core machine it gave a higher median
   *     and no better tail (docs/benchmarks.md, "Commit latency with one client")
   */
  public record Options(int maxBatch, int maxInFlight, Duration timeout, Duration pollInterval,
      boolean directSend) {

    public static final Options DEFAULTS =
        new Options(512, 2, Duration.ofSeconds(30), Duration.ofMillis(200), false);

    public Options {
      Checks.atLeast("maxBatch", maxBatch, 1);
      Checks.atLeast("maxInFlight", maxInFlight, 1);
      Checks.positive("timeout", timeout);
      Checks.positive("pollInterval", pollInterval);
    }

    public Options withMaxBatch(int n) {
      return new Options(n, maxInFlight, timeout, pollInterval, directSend);
    }

    public Options withMaxInFlight(int n) {
      return new Options(maxBatch, n, timeout, pollInterval, directSend);
    }

    public Options withTimeout(Duration t) {
      return new Options(maxBatch, maxInFlight, t, pollInterval, directSend);
    }

    public Options withDirectSend(boolean on) {
      return new Options(maxBatch, maxInFlight, timeout, pollInterval, on);
    }
  }

  /**
   * Told the timing of each committed log entry, for diagnosis ({@code bench cluster --stages}). Times are
   * {@link System#nanoTime()}, which on one Linux machine every process shares.
   */
  @FunctionalInterface
  public interface CommitTrace {
    /**
     * @param logIndex the entry's index in the Raft log
     * @param operations operations in the entry
     * @param queued when the entry's first operation was submitted by its caller
     * @param sent when the entry was handed to the Raft client
     * @param replied when the Raft client completed the reply
     */
    void committed(long logIndex, int operations, long queued, long sent, long replied);
  }

  private record Pending(Codec.Op op, CompletableFuture<Outcome> result, long queued) {}

  private final RaftClient raft;
  /** This process's replica, when it has one: writes go to it directly while it leads. */
  private final ClusterReplica local;
  private final org.apache.ratis.protocol.ClientId localClientId = org.apache.ratis.protocol.ClientId.randomId();
  private final AtomicLong localCallId = new AtomicLong();
  private final AtomicLong localWrites = new AtomicLong();
  private final Clock clock;
  private final Options options;
  private final String session = UUID.randomUUID().toString();
  private final AtomicLong nextSeq = new AtomicLong(1);
  private final ConcurrentSkipListSet<Long> outstanding = new ConcurrentSkipListSet<>();
  private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Semaphore inFlight;
  private final Thread sender;
  private final ScheduledExecutorService timer;
  private volatile boolean closed;
  private final AtomicLong resends = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong operations = new AtomicLong();

  private final CopyOnWriteArrayList<LedgerListener> listeners = new CopyOnWriteArrayList<>();
  private final ConcurrentSkipListMap<Long, LedgerEvent> buffered = new ConcurrentSkipListMap<>();
  private final ReentrantLock delivery = new ReentrantLock();
  private volatile long delivered = -1;
  private volatile CommitTrace trace;

  /** A client of the group {@code raft} talks to; closing the ledger closes {@code raft}. */
  public ClusterLedger(RaftClient raft, Clock clock, Options options) {
    this(raft, null, clock, options);
  }

  private ClusterLedger(RaftClient raft, ClusterReplica local, Clock clock, Options options) {
    this.raft = Objects.requireNonNull(raft, "raft");
    this.local = local;
    this.clock = Objects.requireNonNull(clock, "clock");
    this.options = Objects.requireNonNull(options, "options");
    this.inFlight = new Semaphore(options.maxInFlight());
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "cluster-ledger-timer");
      t.setDaemon(true);
      return t;
    });
    this.sender = new Thread(this::sendLoop, "cluster-ledger-sender");
    sender.setDaemon(true);
    sender.start();
    long poll = options.pollInterval().toMillis();
    timer.scheduleWithFixedDelay(this::poll, poll, poll, TimeUnit.MILLISECONDS);
  }

  /** A client of the group of {@code peers}. */
  public static ClusterLedger connect(List<ClusterPeer> peers, Clock clock, Options options) {
    return new ClusterLedger(Raft.client(peers, ClusterConfig.DEFAULT_ELECTION_TIMEOUT), clock, options);
  }

  /** Tells {@code t} the timing of every entry committed from now on (null: stop). */
  public void traceCommits(CommitTrace t) {
    trace = t;
  }

  /**
   * A client of the group of {@code local}, in the process that runs {@code local}: while {@code local} leads,
   * writes are submitted to it directly, which spares each commit the two network hops between client and leader
   * and their thread hand-offs (docs/cluster.md, "Commit latency"); otherwise they go through the group's Raft
   * client like any other's. Closing the ledger leaves {@code local} running.
   */
  public static ClusterLedger colocated(ClusterReplica local, Clock clock, Options options) {
    Checks.notNull("local", local);
    ClusterConfig c = local.config();
    return new ClusterLedger(Raft.client(c.peers(), c.electionTimeoutMin()), local, clock, options);
  }

  /** How many batches were submitted to this process's own replica while it led (see {@link #colocated}). */
  public long localWrites() {
    return localWrites.get();
  }

  /** How many batches (log entries) this client sent, retries not counted. */
  public long batches() {
    return batches.get();
  }

  /** How many operations this client sent. */
  public long operations() {
    return operations.get();
  }

  /** How many batches were sent again after a failure (leader change, timeout). */
  public long resends() {
    return resends.get();
  }

  // ---------------------------------------------------------------- Ledger

  @Override
  public Clock clock() {
    return clock;
  }

  @Override
  public void addNode(String id, Resources capacity) {
    run(Command.addNode(id, capacity));
  }

  @Override
  public void removeNode(String id) {
    run(Command.removeNode(id));
  }

  @Override
  public Reservation reserve(
      String owner, String node, Resources amount, Priority priority, Duration lease, State initial) {
    return run(Command.reserve(false, owner, node, amount, priority, lease, initial)).reservation();
  }

  @Override
  public Preemption reservePreempting(
      String owner, String node, Resources amount, Priority priority, Duration lease, State initial) {
    Outcome o = run(Command.reserve(true, owner, node, amount, priority, lease, initial));
    return new Preemption(o.reservation(), o.list());
  }

  @Override
  public Optional<List<Reservation>> preemptionPlan(String node, Resources amount, Priority priority) {
    Outcome o = run(Command.plan(node, amount, priority));
    return o.present() ? Optional.of(List.copyOf(o.list())) : Optional.empty();
  }

  @Override
  public Reservation activate(long id) {
    return run(Command.onReservation(Op.ACTIVATE, id, null, null)).reservation();
  }

  @Override
  public Reservation resize(long id, Resources amount) {
    return run(Command.onReservation(Op.RESIZE, id, amount, null)).reservation();
  }

  @Override
  public Reservation renew(long id, Duration lease) {
    return run(Command.onReservation(Op.RENEW, id, null, lease)).reservation();
  }

  @Override
  public Reservation release(long id) {
    return run(Command.onReservation(Op.RELEASE, id, null, null)).reservation();
  }

  @Override
  public int expireDue() {
    return run(Command.simple(Op.EXPIRE_DUE)).count();
  }

  @Override
  public Optional<Reservation> get(long id) {
    return Optional.ofNullable(run(Command.onReservation(Op.GET, id, null, null)).reservation());
  }

  @Override
  public List<NodeView> nodes() {
    return List.copyOf(run(Command.simple(Op.NODES)).nodes());
  }

  @Override
  public LedgerSnapshot snapshot() {
    return run(Command.simple(Op.SNAPSHOT)).snapshot();
  }

  @Override
  public Subscription subscribe(LedgerListener listener) {
    Checks.notNull("listener", listener);
    delivery.lock();
    try {
      if (delivered < 0) {
        delivered = currentSequence();
      }
      listeners.add(listener);
    } finally {
      delivery.unlock();
    }
    return () -> listeners.remove(listener);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    sender.interrupt();
    timer.shutdownNow();
    try {
      sender.join(5000);
      raft.close();
    } catch (IOException e) {
      LOG.warn("closing the Raft client failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Pending p;
    while ((p = queue.poll()) != null) {
      p.result().completeExceptionally(new IllegalStateException("the cluster ledger is closed"));
    }
  }

  // ---------------------------------------------------------------- operations

  /** Sends one operation, waits for its outcome, delivers its events, throws its error. */
  private Outcome run(Command c) {
    if (closed) {
      throw new IllegalStateException("the cluster ledger is closed");
    }
    Outcome o = await(submit(c));
    if (!listeners.isEmpty() && !o.events().isEmpty()) {
      for (LedgerEvent e : o.events()) {
        buffered.put(e.sequence(), e);
      }
      deliver();
      long mine = o.events().get(o.events().size() - 1).sequence();
      for (int i = 0; i < 3 && delivered < mine && !delivery.isHeldByCurrentThread(); i++) {
        // Another thread (the poll) was delivering: take the turn after it, so that this call's events have
        // been delivered when it returns, as with the in-memory ledger.
        delivery.lock();
        try {
          deliverLocked();
        } finally {
          delivery.unlock();
        }
      }
    }
    return o.orThrow();
  }

  /** Queues one operation for the next batch; the future completes with its outcome. */
  CompletableFuture<Outcome> submit(Command c) {
    long seq = nextSeq.getAndIncrement();
    outstanding.add(seq);
    Pending p = new Pending(new Codec.Op(seq, clock.instant(), c), new CompletableFuture<>(),
        System.nanoTime());
    if (options.directSend() && queue.isEmpty() && inFlight.tryAcquire()) {
      // Nothing to batch with and an entry free: send from this thread (the sender thread would only wake up to
      // do the same). Operations of one session may reach the log out of sequence order; the state machine
      // keeps outcomes by sequence number, so that changes nothing.
      batches.incrementAndGet();
      operations.incrementAndGet();
      send(List.of(p), System.nanoTime() + options.timeout().toNanos());
      return p.result();
    }
    queue.add(p);
    return p.result();
  }

  private Outcome await(CompletableFuture<Outcome> f) {
    try {
      return f.get(options.timeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the cluster", e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("the cluster did not answer within " + options.timeout(), e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException("the cluster failed: " + e.getCause(), e.getCause());
    }
  }

  private void sendLoop() {
    List<Pending> batch = new ArrayList<>(options.maxBatch());
    while (!closed) {
      try {
        inFlight.acquire();
        Pending first = queue.take();
        batch.add(first);
        queue.drainTo(batch, options.maxBatch() - 1);
        List<Pending> toSend = List.copyOf(batch);
        batch.clear();
        batches.incrementAndGet();
        operations.addAndGet(toSend.size());
        send(toSend, System.nanoTime() + options.timeout().toNanos());
      } catch (InterruptedException e) {
        inFlight.release();
        return;
      }
    }
  }

  /** Sends a batch; on failure sends the same operations again (same sequence numbers) until the deadline. */
  private void send(List<Pending> batch, long deadline) {
    List<Codec.Op> ops = new ArrayList<>(batch.size());
    for (Pending p : batch) {
      ops.add(p.op());
    }
    long acked = outstanding.isEmpty() ? nextSeq.get() : outstanding.first();
    byte[] bytes = Codec.encodeBatch(new Codec.Batch(session, acked, ops));
    CompletableFuture<RaftClientReply> f;
    long sent = System.nanoTime();
    try {
      // A copy, so that the deadline ends our wait without touching Ratis' own request.
      Message m = Message.valueOf(ByteString.copyFrom(bytes));
      CompletableFuture<RaftClientReply> direct = local == null ? null
          : local.submitIfLeader(localClientId, localCallId.incrementAndGet(), m);
      if (direct != null) {
        localWrites.incrementAndGet();
      }
      f = (direct != null ? direct : raft.async().send(m)).copy()
          .orTimeout(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete((reply, error) -> {
      Throwable failure = error;
      if (failure == null && !reply.isSuccess()) {
        failure = reply.getException();
      }
      if (failure == null) {
        CommitTrace t = trace;
        if (t != null) {
          t.committed(reply.getLogIndex(), batch.size(), batch.get(0).queued(), sent, System.nanoTime());
        }
        try {
          Codec.Reply r = Codec.decodeReply(new DataInputStream(reply.getMessage().getContent().newInput()));
          for (int i = 0; i < batch.size(); i++) {
            outstanding.remove(batch.get(i).op().seq());
            batch.get(i).result().complete(r.outcomes().get(i));
          }
        } catch (IOException | RuntimeException e) {
          fail(batch, new IllegalStateException("unreadable reply from the cluster: " + e, e));
        }
        inFlight.release();
        return;
      }
      if (closed || System.nanoTime() > deadline || !retriable(failure)) {
        fail(batch, new IllegalStateException("the cluster did not commit " + batch.size()
            + " operation(s) within " + options.timeout() + ": " + failure, failure));
        inFlight.release();
        return;
      }
      resends.incrementAndGet();
      LOG.debug("batch of {} failed ({}); sending it again", batch.size(), failure.toString());
      try {
        timer.schedule(() -> send(batch, deadline), 20, TimeUnit.MILLISECONDS);
      } catch (RuntimeException e) {
        fail(batch, new IllegalStateException("the cluster ledger is closed", e));
        inFlight.release();
      }
    });
  }

  /** Failures of the transport or of leadership are worth another try; a programming error is not. */
  private static boolean retriable(Throwable t) {
    while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t instanceof IOException || t instanceof TimeoutException
        || t instanceof org.apache.ratis.protocol.exceptions.RaftException;
  }

  private void fail(List<Pending> batch, RuntimeException e) {
    for (Pending p : batch) {
      outstanding.remove(p.op().seq());
      p.result().completeExceptionally(e);
    }
  }

  // ---------------------------------------------------------------- events

  private long currentSequence() {
    try {
      RaftClientReply reply = raft.io().sendReadOnly(Message.valueOf(ByteString.copyFrom(
          new byte[] {LedgerStateMachine.QUERY_STATUS})));
      if (!reply.isSuccess()) {
        throw new IllegalStateException("the cluster did not answer a status read: " + reply.getException());
      }
      return new DataInputStream(reply.getMessage().getContent().newInput()).readLong();
    } catch (IOException e) {
      throw new UncheckedIOException("the cluster did not answer a status read", e);
    }
  }

  private void fetchEventsAfter(long after) {
    try {
      byte[] q = Codec.write(out -> {
        out.writeByte(LedgerStateMachine.QUERY_EVENTS);
        out.writeLong(after);
      });
      RaftClientReply reply = raft.io().sendReadOnly(Message.valueOf(ByteString.copyFrom(q)));
      if (!reply.isSuccess()) {
        LOG.warn("could not read recent ledger events: {}", String.valueOf(reply.getException()));
        return;
      }
      for (LedgerEvent e : Codec.decodeEvents(new DataInputStream(reply.getMessage().getContent().newInput()))) {
        buffered.put(e.sequence(), e);
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("could not read recent ledger events: {}", e.toString());
    }
  }

  private void poll() {
    if (listeners.isEmpty() || delivered < 0 || closed) {
      return;
    }
    if (delivery.tryLock()) {
      try {
        fetchEventsAfter(delivered);
      } finally {
        delivery.unlock();
      }
      deliver();
    }
  }

  /**
   * Delivers buffered events in sequence order. One thread delivers at a time; another thread's events are
   * left to it, as in the in-memory ledger; a listener that calls the ledger does not deliver recursively.
   */
  private void deliver() {
    if (delivery.isHeldByCurrentThread()) {
      return;
    }
    while (!buffered.isEmpty() && delivery.tryLock()) {
      try {
        deliverLocked();
      } finally {
        delivery.unlock();
      }
    }
  }

  private void deliverLocked() {
    Map.Entry<Long, LedgerEvent> first;
    while ((first = buffered.firstEntry()) != null) {
      long want = delivered + 1;
      if (first.getKey() < want) {
        buffered.remove(first.getKey());
        continue;
      }
      if (first.getKey() > want) {
        fetchEventsAfter(delivered);
        Map.Entry<Long, LedgerEvent> again = buffered.firstEntry();
        if (again != null && again.getKey() > want) {
          LOG.warn("ledger events {} to {} are no longer remembered by the cluster; listeners skip them",
              want, again.getKey() - 1);
          delivered = again.getKey() - 1;
        }
        continue;
      }
      buffered.remove(first.getKey());
      for (LedgerListener l : listeners) {
        try {
          l.onEvent(first.getValue());
        } catch (RuntimeException ex) {
          LOG.warn("ledger listener {} failed on event {}", l, first.getKey(), ex);
        }
      }
      delivered = first.getKey();
    }
  }
}
