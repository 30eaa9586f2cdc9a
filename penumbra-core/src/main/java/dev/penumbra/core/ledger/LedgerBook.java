package dev.penumbra.core.ledger;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.LedgerEvent.Type;
import dev.penumbra.core.ledger.Reservation.State;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The ledger's state and rules, once: nodes, live reservations with their leases, the recently ended ones, ids and
 * the event sequence, without a lock, a clock or listeners. Every operation is given the instant it happens at
 * and hands the events it causes to a sink. The in-memory ledger is this book behind a lock, its clock and its
 * listeners; the replicated ledger's state machine is this book driven by the operations of its log at the
 * instants they carry. The book can be taken apart ({@link #image()}) and put back with its ids
 * ({@link #restore}), which is what a replica's snapshot holds. Not thread-safe.
 *
 * <p>Leases sit in an indexed min-heap so that the per-operation "anything due?" check is one comparison and
 * removal on release is O(log n) without garbage; each node keeps an intrusive list of its reservations for
 * preemption. About 650 lines: the hot path and every invariant it keeps are in one class.
 */
public final class LedgerBook {

  /** How many ended reservations stay readable by id. */
  public static final int ENDED_MEMORY = 4096;

  /**
   * Everything the book holds, for a snapshot.
   *
   * @param nextId the id the next reservation gets
   * @param sequence the sequence number of the last event
   * @param nodes every node's capacity, in the order they were added
   * @param live the live reservations by increasing id
   * @param ended the recently ended reservations still readable by id
   */
  public record Image(long nextId, long sequence, Map<String, Resources> nodes, List<Reservation> live,
      List<Reservation> ended) {
    public Image {
      nodes = Collections.unmodifiableMap(new LinkedHashMap<>(nodes));
      live = List.copyOf(live);
      ended = List.copyOf(ended);
    }
  }

  private final LinkedHashMap<String, Node> nodes = new LinkedHashMap<>();
  private final HashMap<Long, Entry> live = new HashMap<>();
  private Entry[] heap = new Entry[64];
  private int heapSize;
  private final Reservation[] ended = new Reservation[ENDED_MEMORY];
  private long nextId;
  private long sequence;
  private final Consumer<LedgerEvent> sink;
  private boolean recording;

  /**
   * An empty book.
   *
   * @param firstId the id of the first reservation (>= 1)
   * @param sink receives each event while {@link #recordEvents recording} (in sequence order)
   */
  public LedgerBook(long firstId, Consumer<LedgerEvent> sink) {
    Checks.atLeast("firstId", firstId, 1);
    this.nextId = firstId;
    this.sink = sink == null ? e -> { } : sink;
  }

  /**
   * Whether events are built and handed to the sink (off: only their sequence numbers advance, so a ledger with
   * no listener allocates nothing for them).
   */
  public void recordEvents(boolean on) {
    this.recording = on;
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

  public void addNode(String id, Resources capacity, Instant now) {
    requireId(id);
    if (capacity == null) {
      throw new IllegalArgumentException("capacity of node '" + id + "' must not be null");
    }
    expire(now);
    if (nodes.containsKey(id)) {
      throw new IllegalArgumentException("node id '" + id + "' is already in the ledger");
    }
    nodes.put(id, new Node(id, capacity));
    emit(Type.NODE_ADDED, null, null, id, now);
  }

  public void removeNode(String id, Instant now) {
    requireId(id);
    expire(now);
    Node n = node(id);
    if (n.count > 0) {
      throw new IllegalStateException(
          "node '" + id + "' still holds " + n.count + " live reservations; release them first");
    }
    nodes.remove(id);
    emit(Type.NODE_REMOVED, null, null, id, now);
  }

  // ---------------------------------------------------------------- reservations

  public Reservation reserve(String owner, String node, Resources amount, Priority priority, Duration lease,
      State initial, Instant now) {
    checkReserve(owner, node, amount, priority, lease, initial);
    expire(now);
    Node n = node(node);
    if (!n.fits(amount)) {
      throw new InsufficientCapacityException("node '" + node + "' cannot fit amount " + amount
          + " for owner '" + owner + "': free " + n.free() + " of capacity " + n.capacity);
    }
    return create(owner, n, amount, priority, leaseEnd(now, lease), initial, now);
  }

  public Preemption reservePreempting(String owner, String node, Resources amount, Priority priority,
      Duration lease, State initial, Instant now) {
    checkReserve(owner, node, amount, priority, lease, initial);
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
    List<Reservation> out = new ArrayList<>(victims.size());
    for (Entry v : victims) {
      out.add(end(v, State.PREEMPTED, Type.PREEMPTED, now));
    }
    return new Preemption(create(owner, n, amount, priority, expiry, initial, now), out);
  }

  public Optional<List<Reservation>> preemptionPlan(String node, Resources amount, Priority priority, Instant now) {
    requireId(node);
    Checks.notNull("amount", amount);
    Checks.notNull("priority", priority);
    expire(now);
    List<Entry> victims = plan(node(node), amount, priority);
    if (victims == null) {
      return Optional.empty();
    }
    List<Reservation> rs = new ArrayList<>(victims.size());
    for (Entry v : victims) {
      rs.add(v.r);
    }
    return Optional.of(Collections.unmodifiableList(rs));
  }

  /** The victims to preempt (empty when it fits as is), or null when it cannot fit. */
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

  public Reservation activate(long id, Instant now) {
    expire(now);
    Entry e = liveEntry(id, "activate");
    if (e.r.state() != State.WARM) {
      throw new IllegalStateException(
          "reservation " + id + " is " + e.r.state() + "; only a WARM reservation can be activated");
    }
    Reservation before = e.r;
    Reservation after = before.withState(State.ACTIVE);
    e.r = after;
    emit(Type.ACTIVATED, before, after, e.node.id, now);
    return after;
  }

  public Reservation resize(long id, Resources amount, Instant now) {
    if (amount == null) {
      throw new IllegalArgumentException("amount of reservation " + id + " must not be null");
    }
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
    Reservation after = before.withAmount(amount);
    e.r = after;
    emit(Type.RESIZED, before, after, n.id, now);
    return after;
  }

  public Reservation renew(long id, Duration lease, Instant now) {
    checkLease(lease);
    expire(now);
    Entry e = liveEntry(id, "renew");
    Instant expiry = leaseEnd(now, lease);
    Reservation before = e.r;
    Reservation after = before.withLeaseExpiry(expiry);
    e.r = after;
    heapFix(e);
    emit(Type.RENEWED, before, after, e.node.id, now);
    return after;
  }

  public Reservation release(long id, Instant now) {
    expire(now);
    return end(liveEntry(id, "release"), State.RELEASED, Type.RELEASED, now);
  }

  /**
   * Puts back one live reservation an earlier run of this ledger held (persistence across a restart), with its
   * id, owner, node, amount, priority, state, creation time and lease expiry; a lease already past expires on the
   * next expiry pass. Emits {@code RESERVED}.
   */
  public void restore(Reservation saved, Instant now) {
    if (saved == null || !saved.isLive()) {
      throw new IllegalArgumentException("only a live reservation can be restored, was " + saved);
    }
    if (saved.id() < 1 || saved.id() >= nextId || live.containsKey(saved.id())) {
      throw new IllegalArgumentException("reservation id " + saved.id() + " is in use or not below the next id "
          + nextId);
    }
    Node n = node(saved.node());
    if (!n.fits(saved.amount())) {
      throw new InsufficientCapacityException("node '" + saved.node() + "' cannot fit restored reservation "
          + saved.id() + " of " + saved.amount());
    }
    Entry e = new Entry(saved, n);
    live.put(saved.id(), e);
    n.add(saved.amount());
    n.link(e);
    heapAdd(e);
    emit(Type.RESERVED, null, saved, n.id, now);
  }

  /** Expires every lease due at {@code now} (expiry <= now); returns how many. */
  public int expireDue(Instant now) {
    return expire(now);
  }

  public Optional<Reservation> get(long id, Instant now) {
    expire(now);
    Entry e = live.get(id);
    if (e != null) {
      return Optional.of(e.r);
    }
    Reservation old = ended[(int) (id & (ENDED_MEMORY - 1))];
    return old != null && old.id() == id ? Optional.of(old) : Optional.empty();
  }

  public List<NodeView> nodes(Instant now) {
    expire(now);
    return Collections.unmodifiableList(nodeViews());
  }

  public LedgerSnapshot snapshot(Instant now) {
    expire(now);
    return new LedgerSnapshot(sequence, now, nodeViews(), Arrays.asList(liveSorted()));
  }

  /** The sequence number of the last event. */
  public long sequence() {
    return sequence;
  }

  /**
   * The per-node invariant recomputed from the live reservations themselves, not from the running sums: null when
   * every node's live reservations fit its capacity and match its running sums, else what is wrong.
   */
  public String checkInvariant() {
    HashMap<String, Resources> sums = new HashMap<>();
    for (Entry e : live.values()) {
      if (!e.r.isLive()) {
        return "reservation " + e.r.id() + " is " + e.r.state() + " but counted live";
      }
      sums.merge(e.node.id, e.r.amount(), Resources::plus);
    }
    for (Node n : nodes.values()) {
      Resources sum = sums.getOrDefault(n.id, Resources.ZERO);
      if (!sum.fits(n.capacity)) {
        return "node '" + n.id + "' holds " + sum + " over its capacity " + n.capacity;
      }
      if (!sum.equals(n.used())) {
        return "node '" + n.id + "' counts " + n.used() + " used but its reservations sum to " + sum;
      }
    }
    return null;
  }

  // ---------------------------------------------------------------- image and restore

  /** Everything the book holds, to be written out and {@link #restore restored} later. */
  public Image image() {
    Map<String, Resources> caps = new LinkedHashMap<>();
    for (Node n : nodes.values()) {
      caps.put(n.id, n.capacity);
    }
    List<Reservation> old = new ArrayList<>();
    for (Reservation r : ended) {
      if (r != null) {
        old.add(r);
      }
    }
    return new Image(nextId, sequence, caps, Arrays.asList(liveSorted()), old);
  }

  /**
   * A book holding what {@code image} holds, with the same ids, sequence and lease order: it goes on exactly as
   * the book the image was taken from. Fails naming what is inconsistent (a reservation on an unknown node, an id
   * not below {@code nextId}, a node over its capacity).
   */
  public static LedgerBook restore(Image image, Consumer<LedgerEvent> sink) {
    LedgerBook b = new LedgerBook(image.nextId(), sink);
    b.sequence = image.sequence();
    image.nodes().forEach((id, cap) -> b.nodes.put(id, new Node(id, cap)));
    // In increasing id order, as they were created: each node's list (newest first) comes back in the same order.
    for (Reservation r : image.live()) {
      Node n = b.nodes.get(r.node());
      if (n == null) {
        throw new IllegalArgumentException("reservation " + r.id() + " is on node '" + r.node()
            + "', which the image does not hold");
      }
      if (r.id() >= image.nextId() || !r.isLive() || b.live.containsKey(r.id())) {
        throw new IllegalArgumentException("reservation " + r.id() + " (" + r.state() + ") cannot be live with "
            + "nextId " + image.nextId());
      }
      Entry e = new Entry(r, n);
      b.live.put(r.id(), e);
      n.add(r.amount());
      n.link(e);
      b.heapAdd(e);
    }
    for (Reservation r : image.ended()) {
      b.ended[(int) (r.id() & (ENDED_MEMORY - 1))] = r;
    }
    String breach = b.checkInvariant();
    if (breach != null) {
      throw new IllegalArgumentException("the image breaks the ledger's invariant: " + breach);
    }
    return b;
  }

  // ---------------------------------------------------------------- internals

  private Reservation[] liveSorted() {
    Reservation[] rs = new Reservation[live.size()];
    int i = 0;
    for (Entry e : live.values()) {
      rs[i++] = e.r;
    }
    Arrays.sort(rs, (a, b) -> Long.compare(a.id(), b.id()));
    return rs;
  }

  private List<NodeView> nodeViews() {
    List<NodeView> out = new ArrayList<>(nodes.size());
    for (Node n : nodes.values()) {
      out.add(n.view());
    }
    return out;
  }

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
    if (recording) {
      sink.accept(new LedgerEvent(type, before, after, node, seq, now));
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
    Checks.positive("lease", lease);
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
