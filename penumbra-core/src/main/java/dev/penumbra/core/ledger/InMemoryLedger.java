package dev.penumbra.core.ledger;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.LedgerEvent.Type;
import dev.penumbra.core.ledger.Reservation.State;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-memory ledger. One lock guards all state: operations are short and touch one node (expiry aside),
 * so a single uncontended lock is cheaper than finer ones. Leases sit in an indexed min-heap so that the
 * per-operation "anything due?" check is one comparison, and removal on release is O(log n) without garbage.
 * Each node keeps an intrusive list of its reservations for preemption. Events are queued under the lock (in
 * sequence order) and delivered after it is released.
 *
 * <p>About 700 lines: the hot path (one lock, the lease heap, per-node lists, preemption plans) is kept in one class
 * so that every invariant check sees every field it depends on.
 */
final class InMemoryLedger implements Ledger {

  private static final Logger LOG = LoggerFactory.getLogger(InMemoryLedger.class);
  private static final int ENDED_MEMORY = 4096;

  private final Clock clock;
  private final ReentrantLock lock = new ReentrantLock();
  private final LinkedHashMap<String, Node> nodes = new LinkedHashMap<>();
  private final HashMap<Long, Entry> live = new HashMap<>();
  private Entry[] heap = new Entry[64];
  private int heapSize;
  private final Reservation[] ended = new Reservation[ENDED_MEMORY];
  private long nextId = 1;
  private long sequence;

  private final CopyOnWriteArrayList<LedgerListener> listeners = new CopyOnWriteArrayList<>();
  private volatile boolean hasListeners;
  private final ConcurrentLinkedQueue<LedgerEvent> pending = new ConcurrentLinkedQueue<>();
  private final ReentrantLock delivery = new ReentrantLock();

  InMemoryLedger(Clock clock) {
    this(clock, 1);
  }

  InMemoryLedger(Clock clock, long firstId) {
    this.clock = Objects.requireNonNull(clock, "clock");
    if (firstId < 1) {
      throw new IllegalArgumentException("firstId must be >= 1, was " + firstId);
    }
    this.nextId = firstId;
  }

  /** A node and the sum of its live reservations, kept as plain longs to avoid allocating on every change. */
  static final class Node {
    final String id;
    final Resources capacity;
    long cpu;
    long mem;
    long io;
    long net;
    int count;
    Entry head;

    Node(String id, Resources capacity) {
      this.id = id;
      this.capacity = capacity;
    }

    boolean fits(Resources a) {
      return a.cpuMillis() <= capacity.cpuMillis() - cpu
          && a.memoryBytes() <= capacity.memoryBytes() - mem
          && a.ioBytesPerSec() <= capacity.ioBytesPerSec() - io
          && a.networkBytesPerSec() <= capacity.networkBytesPerSec() - net;
    }

    /** Would {@code now} fit in place of {@code old}? */
    boolean fitsReplacing(Resources old, Resources now) {
      return now.cpuMillis() <= capacity.cpuMillis() - (cpu - old.cpuMillis())
          && now.memoryBytes() <= capacity.memoryBytes() - (mem - old.memoryBytes())
          && now.ioBytesPerSec() <= capacity.ioBytesPerSec() - (io - old.ioBytesPerSec())
          && now.networkBytesPerSec() <= capacity.networkBytesPerSec() - (net - old.networkBytesPerSec());
    }

    void add(Resources a) {
      cpu += a.cpuMillis();
      mem += a.memoryBytes();
      io += a.ioBytesPerSec();
      net += a.networkBytesPerSec();
    }

    void subtract(Resources a) {
      cpu -= a.cpuMillis();
      mem -= a.memoryBytes();
      io -= a.ioBytesPerSec();
      net -= a.networkBytesPerSec();
    }

    Resources used() {
      return new Resources(cpu, mem, io, net);
    }

    Resources free() {
      return new Resources(
          capacity.cpuMillis() - cpu,
          capacity.memoryBytes() - mem,
          capacity.ioBytesPerSec() - io,
          capacity.networkBytesPerSec() - net);
    }

    void link(Entry e) {
      e.next = head;
      if (head != null) {
        head.prev = e;
      }
      head = e;
      count++;
    }

    void unlink(Entry e) {
      if (e.prev != null) {
        e.prev.next = e.next;
      } else {
        head = e.next;
      }
      if (e.next != null) {
        e.next.prev = e.prev;
      }
      e.prev = null;
      e.next = null;
      count--;
    }

    NodeView view() {
      return new NodeView(id, capacity, used(), count);
    }
  }

  /** A live reservation with its bookkeeping. */
  static final class Entry {
    Reservation r;
    final Node node;
    int heapIndex;
    Entry prev;
    Entry next;

    Entry(Reservation r, Node node) {
      this.r = r;
      this.node = node;
    }
  }

  // ---------------------------------------------------------------- nodes

  @Override
  public Clock clock() {
    return clock;
  }

  @Override
  public void addNode(String id, Resources capacity) {
    requireId(id);
    if (capacity == null) {
      throw new IllegalArgumentException("capacity of node '" + id + "' must not be null");
    }
    lock.lock();
    try {
      Instant now = clock.instant();
      expire(now);
      if (nodes.containsKey(id)) {
        throw new IllegalArgumentException("node id '" + id + "' is already in the ledger");
      }
      nodes.put(id, new Node(id, capacity));
      emit(Type.NODE_ADDED, null, null, id, now);
    } finally {
      lock.unlock();
    }
    deliver();
  }

  @Override
  public void removeNode(String id) {
    requireId(id);
    lock.lock();
    try {
      Instant now = clock.instant();
      expire(now);
      Node n = node(id);
      if (n.count > 0) {
        throw new IllegalStateException(
            "node '" + id + "' still holds " + n.count + " live reservations; release them first");
      }
      nodes.remove(id);
      emit(Type.NODE_REMOVED, null, null, id, now);
    } finally {
      lock.unlock();
    }
    deliver();
  }

  // ---------------------------------------------------------------- reservations

  @Override
  public Reservation reserve(
      String owner, String node, Resources amount, Priority priority, Duration lease, State initial) {
    checkReserve(owner, node, amount, priority, lease, initial);
    Reservation r;
    lock.lock();
    try {
      Instant now = clock.instant();
      expire(now);
      Node n = node(node);
      if (!n.fits(amount)) {
        throw new InsufficientCapacityException("node '" + node + "' cannot fit amount " + amount
            + " for owner '" + owner + "': free " + n.free() + " of capacity " + n.capacity);
      }
      r = create(owner, n, amount, priority, leaseEnd(now, lease), initial, now);
    } finally {
      lock.unlock();
    }
    deliver();
    return r;
  }

  @Override
  public Reservation restore(Reservation saved) {
    if (saved == null || !saved.isLive()) {
      throw new IllegalArgumentException("only a live reservation can be restored, was " + saved);
    }
    lock.lock();
    try {
      if (saved.id() < 1 || saved.id() >= nextId || live.containsKey(saved.id())) {
        throw new IllegalArgumentException("reservation id " + saved.id() + " is in use or not below the next id "
            + nextId);
      }
      Node n = node(saved.node());
      if (!n.fits(saved.amount())) {
        throw new InsufficientCapacityException("node '" + saved.node() + "' cannot fit restored reservation "
            + saved.id() + " of " + saved.amount() + ": free " + n.free());
      }
      Entry e = new Entry(saved, n);
      live.put(saved.id(), e);
      n.add(saved.amount());
      n.link(e);
      heapAdd(e);
      emit(Type.RESERVED, null, saved, n.id, clock.instant());
    } finally {
      lock.unlock();
    }
    deliver();
    return saved;
  }

  @Override
  public Preemption reservePreempting(
      String owner, String node, Resources amount, Priority priority, Duration lease, State initial) {
    checkReserve(owner, node, amount, priority, lease, initial);
    Preemption result;
    lock.lock();
    try {
      Instant now = clock.instant();
      expire(now);
      Node n = node(node);
      Instant expiry = leaseEnd(now, lease);
      List<Entry> victims = plan(n, amount, priority);
      if (victims == null) {
        throw new InsufficientCapacityException("node '" + node + "' cannot fit amount " + amount
            + " for owner '" + owner + "' at priority " + priority.label()
            + " even by preempting every lower-priority reservation: free " + n.free()
            + " of capacity " + n.capacity);
      }
      List<Reservation> ended = new ArrayList<>(victims.size());
      for (Entry v : victims) {
        ended.add(end(v, State.PREEMPTED, Type.PREEMPTED, now));
      }
      result = new Preemption(create(owner, n, amount, priority, expiry, initial, now), ended);
    } finally {
      lock.unlock();
    }
    deliver();
    return result;
  }

  @Override
  public Optional<List<Reservation>> preemptionPlan(String node, Resources amount, Priority priority) {
    requireId(node);
    if (amount == null) {
      throw new IllegalArgumentException("amount must not be null");
    }
    if (priority == null) {
      throw new IllegalArgumentException("priority must not be null");
    }
    Optional<List<Reservation>> out;
    lock.lock();
    try {
      expire(clock.instant());
      List<Entry> victims = plan(node(node), amount, priority);
      if (victims == null) {
        out = Optional.empty();
      } else {
        List<Reservation> rs = new ArrayList<>(victims.size());
        for (Entry v : victims) {
          rs.add(v.r);
        }
        out = Optional.of(Collections.unmodifiableList(rs));
      }
    } finally {
      lock.unlock();
    }
    deliver();
    return out;
  }

  /** The victims to preempt (empty when it fits as is), or null when it cannot fit. Under the lock. */
  private List<Entry> plan(Node n, Resources amount, Priority priority) {
    if (n.fits(amount)) {
      return List.of();
    }
    if (!amount.fits(n.capacity)) {
      return null;
    }
    long[] shortfall = {
      amount.cpuMillis() - (n.capacity.cpuMillis() - n.cpu),
      amount.memoryBytes() - (n.capacity.memoryBytes() - n.mem),
      amount.ioBytesPerSec() - (n.capacity.ioBytesPerSec() - n.io),
      amount.networkBytesPerSec() - (n.capacity.networkBytesPerSec() - n.net)
    };
    List<Entry> candidates = new ArrayList<>();
    for (Entry e = n.head; e != null; e = e.next) {
      if (priority.outranks(e.r.priority())) {
        candidates.add(e);
      }
    }
    return VictimSelector.select(candidates, shortfall, n.capacity);
  }

  @Override
  public Reservation activate(long id) {
    Reservation after;
    lock.lock();
    try {
      Instant now = clock.instant();
      expire(now);
      Entry e = liveEntry(id, "activate");
      if (e.r.state() != State.WARM) {
        throw new IllegalStateException(
            "reservation " + id + " is " + e.r.state() + "; only a WARM reservation can be activated");
      }
      Reservation before = e.r;
      after = before.withState(State.ACTIVE);
      e.r = after;
      emit(Type.ACTIVATED, before, after, e.node.id, now);
    } finally {
      lock.unlock();
    }
    deliver();
    return after;
  }

  @Override
  public Reservation resize(long id, Resources amount) {
    if (amount == null) {
      throw new IllegalArgumentException("amount of reservation " + id + " must not be null");
    }
    Reservation after;
    lock.lock();
    try {
      Instant now = clock.instant();
      expire(now);
      Entry e = liveEntry(id, "resize");
      Reservation before = e.r;
      Node n = e.node;
      if (!n.fitsReplacing(before.amount(), amount)) {
        throw new InsufficientCapacityException("reservation " + id + " cannot grow to amount " + amount
            + " on node '" + n.id + "': it holds " + before.amount() + ", free " + n.free()
            + " of capacity " + n.capacity);
      }
      n.subtract(before.amount());
      n.add(amount);
      after = before.withAmount(amount);
      e.r = after;
      emit(Type.RESIZED, before, after, n.id, now);
    } finally {
      lock.unlock();
    }
    deliver();
    return after;
  }

  @Override
  public Reservation renew(long id, Duration lease) {
    checkLease(lease);
    Reservation after;
    lock.lock();
    try {
      Instant now = clock.instant();
      expire(now);
      Entry e = liveEntry(id, "renew");
      Instant expiry = leaseEnd(now, lease);
      Reservation before = e.r;
      after = before.withLeaseExpiry(expiry);
      e.r = after;
      heapFix(e);
      emit(Type.RENEWED, before, after, e.node.id, now);
    } finally {
      lock.unlock();
    }
    deliver();
    return after;
  }

  @Override
  public Reservation release(long id) {
    Reservation after;
    lock.lock();
    try {
      Instant now = clock.instant();
      expire(now);
      after = end(liveEntry(id, "release"), State.RELEASED, Type.RELEASED, now);
    } finally {
      lock.unlock();
    }
    deliver();
    return after;
  }

  @Override
  public int expireDue() {
    int n;
    lock.lock();
    try {
      n = expire(clock.instant());
    } finally {
      lock.unlock();
    }
    deliver();
    return n;
  }

  @Override
  public Optional<Reservation> get(long id) {
    Reservation r;
    lock.lock();
    try {
      expire(clock.instant());
      Entry e = live.get(id);
      if (e != null) {
        r = e.r;
      } else {
        Reservation old = ended[(int) (id & (ENDED_MEMORY - 1))];
        r = old != null && old.id() == id ? old : null;
      }
    } finally {
      lock.unlock();
    }
    deliver();
    return Optional.ofNullable(r);
  }

  @Override
  public List<NodeView> nodes() {
    List<NodeView> out;
    lock.lock();
    try {
      expire(clock.instant());
      out = new ArrayList<>(nodes.size());
      for (Node n : nodes.values()) {
        out.add(n.view());
      }
    } finally {
      lock.unlock();
    }
    deliver();
    return Collections.unmodifiableList(out);
  }

  @Override
  public LedgerSnapshot snapshot() {
    LedgerSnapshot s;
    lock.lock();
    try {
      Instant now = clock.instant();
      expire(now);
      List<NodeView> ns = new ArrayList<>(nodes.size());
      for (Node n : nodes.values()) {
        ns.add(n.view());
      }
      Reservation[] rs = new Reservation[live.size()];
      int i = 0;
      for (Entry e : live.values()) {
        rs[i++] = e.r;
      }
      Arrays.sort(rs, (a, b) -> Long.compare(a.id(), b.id()));
      s = new LedgerSnapshot(sequence, now, ns, Arrays.asList(rs));
    } finally {
      lock.unlock();
    }
    deliver();
    return s;
  }

  @Override
  public Subscription subscribe(LedgerListener listener) {
    if (listener == null) {
      throw new IllegalArgumentException("listener must not be null");
    }
    listeners.add(listener);
    hasListeners = true;
    return () -> {
      listeners.remove(listener);
      hasListeners = !listeners.isEmpty();
    };
  }

  // ---------------------------------------------------------------- internals (under the lock)

  private Reservation create(
      String owner, Node n, Resources amount, Priority priority, Instant expiry, State initial, Instant now) {
    Reservation r = new Reservation(nextId++, owner, n.id, amount, priority, initial, now, expiry);
    Entry e = new Entry(r, n);
    live.put(r.id(), e);
    n.add(amount);
    n.link(e);
    heapAdd(e);
    emit(Type.RESERVED, null, r, n.id, now);
    return r;
  }

  private Reservation end(Entry e, State state, Type type, Instant now) {
    Reservation before = e.r;
    Reservation after = before.withState(state);
    live.remove(before.id());
    heapRemove(e);
    e.node.subtract(before.amount());
    e.node.unlink(e);
    ended[(int) (before.id() & (ENDED_MEMORY - 1))] = after;
    emit(type, before, after, e.node.id, now);
    return after;
  }

  /** Expires every lease due at {@code now}: expiry <= now. */
  private int expire(Instant now) {
    int n = 0;
    while (heapSize > 0 && heap[0].r.leaseExpiry().compareTo(now) <= 0) {
      end(heap[0], State.EXPIRED, Type.EXPIRED, now);
      n++;
    }
    return n;
  }

  private void emit(Type type, Reservation before, Reservation after, String node, Instant now) {
    long seq = ++sequence;
    if (hasListeners) {
      pending.add(new LedgerEvent(type, before, after, node, seq, now));
    }
  }

  private Node node(String id) {
    Node n = nodes.get(id);
    if (n == null) {
      throw new IllegalArgumentException("node '" + id + "' is not in the ledger");
    }
    return n;
  }

  private Entry liveEntry(long id, String op) {
    Entry e = live.get(id);
    if (e != null) {
      return e;
    }
    if (id > 0 && id < nextId) {
      Reservation old = ended[(int) (id & (ENDED_MEMORY - 1))];
      String state = old != null && old.id() == id ? old.state().toString() : "ended";
      throw new IllegalStateException("reservation " + id + " is " + state + " and cannot " + op);
    }
    throw new IllegalArgumentException("reservation " + id + " is not in the ledger");
  }

  // ---------------------------------------------------------------- events

  /**
   * Delivers queued events in sequence order. Only one thread delivers at a time; a thread that finds another
   * delivering leaves its events to it (the deliverer re-checks the queue after letting go). A listener that
   * changes the ledger does not deliver recursively: its events follow once the current one is done.
   */
  private void deliver() {
    if (pending.isEmpty() || delivery.isHeldByCurrentThread()) {
      return;
    }
    while (!pending.isEmpty() && delivery.tryLock()) {
      try {
        LedgerEvent ev;
        while ((ev = pending.poll()) != null) {
          for (LedgerListener l : listeners) {
            try {
              l.onEvent(ev);
            } catch (RuntimeException ex) {
              LOG.warn("ledger listener {} failed on event {}", l, ev.sequence(), ex);
            }
          }
        }
      } finally {
        delivery.unlock();
      }
    }
  }

  // ---------------------------------------------------------------- lease heap

  private static boolean earlier(Entry a, Entry b) {
    int c = a.r.leaseExpiry().compareTo(b.r.leaseExpiry());
    return c < 0 || (c == 0 && a.r.id() < b.r.id());
  }

  private void heapAdd(Entry e) {
    if (heapSize == heap.length) {
      heap = Arrays.copyOf(heap, heapSize * 2);
    }
    e.heapIndex = heapSize;
    heap[heapSize++] = e;
    siftUp(e.heapIndex);
  }

  private void heapRemove(Entry e) {
    int i = e.heapIndex;
    Entry last = heap[--heapSize];
    heap[heapSize] = null;
    if (i != heapSize) {
      heap[i] = last;
      last.heapIndex = i;
      heapFixAt(i);
    }
    e.heapIndex = -1;
  }

  private void heapFix(Entry e) {
    heapFixAt(e.heapIndex);
  }

  private void heapFixAt(int i) {
    if (i > 0 && earlier(heap[i], heap[(i - 1) >>> 1])) {
      siftUp(i);
    } else {
      siftDown(i);
    }
  }

  private void siftUp(int i) {
    Entry e = heap[i];
    while (i > 0) {
      int p = (i - 1) >>> 1;
      Entry parent = heap[p];
      if (!earlier(e, parent)) {
        break;
      }
      heap[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    heap[i] = e;
    e.heapIndex = i;
  }

  private void siftDown(int i) {
    Entry e = heap[i];
    int half = heapSize >>> 1;
    while (i < half) {
      int c = 2 * i + 1;
      int r = c + 1;
      if (r < heapSize && earlier(heap[r], heap[c])) {
        c = r;
      }
      if (!earlier(heap[c], e)) {
        break;
      }
      heap[i] = heap[c];
      heap[i].heapIndex = i;
      i = c;
    }
    heap[i] = e;
    e.heapIndex = i;
  }

  // ---------------------------------------------------------------- argument checks

  private static void requireId(String node) {
    if (node == null || node.isBlank()) {
      throw new IllegalArgumentException("node id must not be null or blank, was " + quote(node));
    }
  }

  private static void checkReserve(
      String owner, String node, Resources amount, Priority priority, Duration lease, State initial) {
    if (owner == null || owner.isBlank()) {
      throw new IllegalArgumentException("owner must not be null or blank, was " + quote(owner));
    }
    requireId(node);
    if (amount == null) {
      throw new IllegalArgumentException("amount for owner '" + owner + "' must not be null");
    }
    if (priority == null) {
      throw new IllegalArgumentException("priority for owner '" + owner + "' must not be null");
    }
    checkLease(lease);
    if (initial != State.WARM && initial != State.ACTIVE) {
      throw new IllegalArgumentException("initial state must be WARM or ACTIVE, was " + initial);
    }
  }

  private static void checkLease(Duration lease) {
    if (lease == null || lease.isZero() || lease.isNegative()) {
      throw new IllegalArgumentException("lease must be > 0, was " + lease);
    }
  }

  private static Instant leaseEnd(Instant now, Duration lease) {
    try {
      return now.plus(lease);
    } catch (DateTimeException | ArithmeticException e) {
      throw new IllegalArgumentException("lease " + lease + " is too long: it ends after " + Instant.MAX, e);
    }
  }

  private static String quote(String s) {
    return s == null ? "null" : "'" + s + "'";
  }
}
