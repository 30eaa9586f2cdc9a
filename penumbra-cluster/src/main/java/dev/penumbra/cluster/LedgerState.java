package dev.penumbra.cluster;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.InsufficientCapacityException;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.LedgerEvent;
import dev.penumbra.core.ledger.LedgerEvent.Type;
import dev.penumbra.core.ledger.LedgerSnapshot;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.ledger.Reservation.State;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The replicated ledger's state on one replica: the same semantics as core's in-memory ledger, but driven only
 * by the commands of the log and the instants they carry (never a replica's clock), and able to write itself
 * out and read itself back (the in-memory ledger cannot be restored with its ids). The contract suite compares
 * it with the in-memory ledger step by step. The preemption choice is delegated to a scratch in-memory ledger
 * holding the node's reservations, so there is one victim rule in the code base. Not thread-safe: the state
 * machine applies one entry at a time under its lock.
 */
final class LedgerState {

  static final int ENDED_MEMORY = 4096;
  /** Events kept for listeners that catch up (a client whose own replies do not carry every change). */
  static final int EVENT_MEMORY = 16384;

  private static final Comparator<Reservation> BY_EXPIRY =
      Comparator.comparing(Reservation::leaseExpiry).thenComparingLong(Reservation::id);
  private static final Duration SCRATCH_LEASE = Duration.ofDays(365L * 1000);

  /** A node with the sum of its live reservations. */
  static final class Node {
    final String id;
    final Resources capacity;
    Resources used = Resources.ZERO;
    final TreeMap<Long, Reservation> reservations = new TreeMap<>();

    Node(String id, Resources capacity) {
      this.id = id;
      this.capacity = capacity;
    }

    Resources free() {
      return capacity.minus(used);
    }

    NodeView view() {
      return new NodeView(id, capacity, used, reservations.size());
    }
  }

  private final LinkedHashMap<String, Node> nodes = new LinkedHashMap<>();
  private final HashMap<Long, Reservation> live = new HashMap<>();
  private final TreeSet<Reservation> leases = new TreeSet<>(BY_EXPIRY);
  private final Reservation[] ended = new Reservation[ENDED_MEMORY];
  private final ArrayDeque<LedgerEvent> recent = new ArrayDeque<>();
  private long nextId = 1;
  private long sequence;
  private Instant time = Instant.EPOCH;
  private List<LedgerEvent> produced = new ArrayList<>();

  /** The ledger's time: the latest instant any applied command carried. */
  Instant time() {
    return time;
  }

  long sequence() {
    return sequence;
  }

  /**
   * Applies one command at the instant it carries (or the ledger's time if that is later: clocks of different
   * clients may disagree, the ledger's time never goes back). Deterministic: the same commands give the same
   * state on every replica.
   */
  Outcome apply(Command c, Instant at) {
    if (at.isAfter(time)) {
      time = at;
    }
    produced = new ArrayList<>(2);
    try {
      return run(c, time);
    } catch (RuntimeException e) {
      // Refusals are IllegalArgument/IllegalState; anything else (an overflow) is refused the same way on
      // every replica, never allowed to stop the state machine.
      return Outcome.failed(e, produced);
    }
  }

  private Outcome run(Command c, Instant now) {
    return switch (c.op()) {
      case ADD_NODE -> {
        requireId(c.node());
        if (c.amount() == null) {
          throw new IllegalArgumentException("capacity of node '" + c.node() + "' must not be null");
        }
        expire(now);
        if (nodes.containsKey(c.node())) {
          throw new IllegalArgumentException("node id '" + c.node() + "' is already in the ledger");
        }
        nodes.put(c.node(), new Node(c.node(), c.amount()));
        emit(Type.NODE_ADDED, null, null, c.node(), now);
        yield Outcome.of(null, produced);
      }
      case REMOVE_NODE -> {
        requireId(c.node());
        expire(now);
        Node n = node(c.node());
        if (!n.reservations.isEmpty()) {
          throw new IllegalStateException("node '" + n.id + "' still holds " + n.reservations.size()
              + " live reservations; release them first");
        }
        nodes.remove(n.id);
        emit(Type.NODE_REMOVED, null, null, n.id, now);
        yield Outcome.of(null, produced);
      }
      case RESERVE -> {
        checkReserve(c);
        expire(now);
        Node n = node(c.node());
        if (!c.amount().fits(n.free())) {
          throw new InsufficientCapacityException("node '" + n.id + "' cannot fit amount " + c.amount()
              + " for owner '" + c.owner() + "': free " + n.free() + " of capacity " + n.capacity);
        }
        yield Outcome.of(create(c, n, leaseEnd(now, c.lease()), now), produced);
      }
      case RESERVE_PREEMPTING -> {
        checkReserve(c);
        expire(now);
        Node n = node(c.node());
        Instant expiry = leaseEnd(now, c.lease());
        List<Reservation> victims = plan(n, c.amount(), c.priority());
        if (victims == null) {
          throw new InsufficientCapacityException("node '" + n.id + "' cannot fit amount " + c.amount()
              + " for owner '" + c.owner() + "' at priority " + c.priority().label()
              + " even by preempting every lower-priority reservation: free " + n.free()
              + " of capacity " + n.capacity);
        }
        List<Reservation> out = new ArrayList<>(victims.size());
        for (Reservation v : victims) {
          out.add(end(v, State.PREEMPTED, Type.PREEMPTED, now));
        }
        Reservation r = create(c, n, expiry, now);
        yield new Outcome(null, null, r, out, true, null, null, 0, produced);
      }
      case PLAN -> {
        requireId(c.node());
        if (c.amount() == null) {
          throw new IllegalArgumentException("amount must not be null");
        }
        if (c.priority() == null) {
          throw new IllegalArgumentException("priority must not be null");
        }
        expire(now);
        List<Reservation> victims = plan(node(c.node()), c.amount(), c.priority());
        yield new Outcome(null, null, null, victims, victims != null, null, null, 0, produced);
      }
      case ACTIVATE -> {
        expire(now);
        Reservation before = liveOne(c.id(), "activate");
        if (before.state() != State.WARM) {
          throw new IllegalStateException("reservation " + before.id() + " is " + before.state()
              + "; only a WARM reservation can be activated");
        }
        yield Outcome.of(replace(before, with(before, State.ACTIVE, before.amount(), before.leaseExpiry()),
            Type.ACTIVATED, now), produced);
      }
      case RESIZE -> {
        if (c.amount() == null) {
          throw new IllegalArgumentException("amount of reservation " + c.id() + " must not be null");
        }
        expire(now);
        Reservation before = liveOne(c.id(), "resize");
        Node n = nodes.get(before.node());
        if (!c.amount().fits(n.free().plus(before.amount()))) {
          throw new InsufficientCapacityException("reservation " + before.id() + " cannot grow to amount "
              + c.amount() + " on node '" + n.id + "': it holds " + before.amount() + ", free " + n.free()
              + " of capacity " + n.capacity);
        }
        n.used = n.used.minus(before.amount()).plus(c.amount());
        yield Outcome.of(replace(before, with(before, before.state(), c.amount(), before.leaseExpiry()),
            Type.RESIZED, now), produced);
      }
      case RENEW -> {
        checkLease(c.lease());
        expire(now);
        Reservation before = liveOne(c.id(), "renew");
        Instant expiry = leaseEnd(now, c.lease());
        yield Outcome.of(replace(before, with(before, before.state(), before.amount(), expiry), Type.RENEWED,
            now), produced);
      }
      case RELEASE -> {
        expire(now);
        yield Outcome.of(end(liveOne(c.id(), "release"), State.RELEASED, Type.RELEASED, now), produced);
      }
      case EXPIRE_DUE -> {
        int n = expire(now);
        yield new Outcome(null, null, null, null, false, null, null, n, produced);
      }
      case GET -> {
        expire(now);
        yield Outcome.of(get(c.id()).orElse(null), produced);
      }
      case NODES -> {
        expire(now);
        yield new Outcome(null, null, null, null, false, nodeViews(), null, 0, produced);
      }
      case SNAPSHOT -> {
        expire(now);
        LedgerSnapshot s = new LedgerSnapshot(sequence, now, nodeViews(), liveReservations());
        yield new Outcome(null, null, null, null, false, null, s, 0, produced);
      }
    };
  }

  // ---------------------------------------------------------------- reads for the state machine

  Optional<Reservation> get(long id) {
    Reservation r = live.get(id);
    if (r != null) {
      return Optional.of(r);
    }
    Reservation old = ended[(int) (id & (ENDED_MEMORY - 1))];
    return old != null && old.id() == id ? Optional.of(old) : Optional.empty();
  }

  /** The live reservations by increasing id. */
  List<Reservation> liveReservations() {
    List<Reservation> rs = new ArrayList<>(live.values());
    rs.sort(Comparator.comparingLong(Reservation::id));
    return rs;
  }

  List<NodeView> nodeViews() {
    List<NodeView> out = new ArrayList<>(nodes.size());
    for (Node n : nodes.values()) {
      out.add(n.view());
    }
    return out;
  }

  /** The remembered events after {@code sequence}; empty when none, and starting later when forgotten. */
  List<LedgerEvent> eventsAfter(long after) {
    List<LedgerEvent> out = new ArrayList<>();
    for (LedgerEvent e : recent) {
      if (e.sequence() > after) {
        out.add(e);
      }
    }
    return out;
  }

  /**
   * The per-node invariant recomputed from the reservations themselves (not from the running sums): null when
   * every node's live reservations fit its capacity and match its running sum, else what is wrong.
   */
  String checkInvariant() {
    HashMap<String, Resources> sums = new HashMap<>();
    for (Reservation r : live.values()) {
      if (!r.isLive()) {
        return "reservation " + r.id() + " is " + r.state() + " but counted live";
      }
      sums.merge(r.node(), r.amount(), Resources::plus);
    }
    for (Node n : nodes.values()) {
      Resources sum = sums.getOrDefault(n.id, Resources.ZERO);
      if (!sum.fits(n.capacity)) {
        return "node '" + n.id + "' holds " + sum + " over its capacity " + n.capacity;
      }
      if (!sum.equals(n.used)) {
        return "node '" + n.id + "' counts " + n.used + " used but its reservations sum to " + sum;
      }
    }
    return null;
  }

  // ---------------------------------------------------------------- internals

  private Reservation create(Command c, Node n, Instant expiry, Instant now) {
    Reservation r = new Reservation(nextId++, c.owner(), n.id, c.amount(), c.priority(), c.initial(), now, expiry);
    live.put(r.id(), r);
    leases.add(r);
    n.reservations.put(r.id(), r);
    n.used = n.used.plus(r.amount());
    emit(Type.RESERVED, null, r, n.id, now);
    return r;
  }

  private Reservation replace(Reservation before, Reservation after, Type type, Instant now) {
    leases.remove(before);
    leases.add(after);
    live.put(after.id(), after);
    nodes.get(after.node()).reservations.put(after.id(), after);
    emit(type, before, after, after.node(), now);
    return after;
  }

  private Reservation end(Reservation before, State state, Type type, Instant now) {
    Reservation after = with(before, state, before.amount(), before.leaseExpiry());
    live.remove(before.id());
    leases.remove(before);
    Node n = nodes.get(before.node());
    n.reservations.remove(before.id());
    n.used = n.used.minus(before.amount());
    ended[(int) (before.id() & (ENDED_MEMORY - 1))] = after;
    emit(type, before, after, n.id, now);
    return after;
  }

  private int expire(Instant now) {
    int n = 0;
    while (!leases.isEmpty() && !leases.first().leaseExpiry().isAfter(now)) {
      end(leases.first(), State.EXPIRED, Type.EXPIRED, now);
      n++;
    }
    return n;
  }

  private void emit(Type type, Reservation before, Reservation after, String node, Instant now) {
    LedgerEvent e = new LedgerEvent(type, before, after, node, ++sequence, now);
    produced.add(e);
    recent.addLast(e);
    if (recent.size() > EVENT_MEMORY) {
      recent.removeFirst();
    }
  }

  /**
   * The victims to preempt (empty when it fits), or null when it cannot fit: asks a scratch in-memory ledger
   * holding this node's live reservations in id order (so the rule's tie-breaks see the same order), then maps
   * its ids back.
   */
  private List<Reservation> plan(Node n, Resources amount, Priority priority) {
    if (amount.fits(n.free())) {
      return List.of();
    }
    if (!amount.fits(n.capacity)) {
      return null;
    }
    Ledger scratch = Ledger.inMemory(new ManualClock(time));
    scratch.addNode(n.id, n.capacity);
    HashMap<Long, Reservation> byScratchId = new HashMap<>();
    for (Reservation r : n.reservations.values()) {
      Reservation s = scratch.reserve(r.owner(), n.id, r.amount(), r.priority(), SCRATCH_LEASE, r.state());
      byScratchId.put(s.id(), r);
    }
    Optional<List<Reservation>> plan = scratch.preemptionPlan(n.id, amount, priority);
    if (plan.isEmpty()) {
      return null;
    }
    List<Reservation> out = new ArrayList<>(plan.get().size());
    for (Reservation s : plan.get()) {
      out.add(byScratchId.get(s.id()));
    }
    return out;
  }

  private Node node(String id) {
    Node n = nodes.get(id);
    if (n == null) {
      throw new IllegalArgumentException("node '" + id + "' is not in the ledger");
    }
    return n;
  }

  private Reservation liveOne(long id, String op) {
    Reservation r = live.get(id);
    if (r != null) {
      return r;
    }
    if (id > 0 && id < nextId) {
      Reservation old = ended[(int) (id & (ENDED_MEMORY - 1))];
      String state = old != null && old.id() == id ? old.state().toString() : "ended";
      throw new IllegalStateException("reservation " + id + " is " + state + " and cannot " + op);
    }
    throw new IllegalArgumentException("reservation " + id + " is not in the ledger");
  }

  private static Reservation with(Reservation r, State s, Resources amount, Instant expiry) {
    return new Reservation(r.id(), r.owner(), r.node(), amount, r.priority(), s, r.created(), expiry);
  }

  private static void requireId(String node) {
    if (node == null || node.isBlank()) {
      throw new IllegalArgumentException("node id must not be null or blank, was " + quote(node));
    }
  }

  private static void checkReserve(Command c) {
    if (c.owner() == null || c.owner().isBlank()) {
      throw new IllegalArgumentException("owner must not be null or blank, was " + quote(c.owner()));
    }
    requireId(c.node());
    if (c.amount() == null) {
      throw new IllegalArgumentException("amount for owner '" + c.owner() + "' must not be null");
    }
    if (c.priority() == null) {
      throw new IllegalArgumentException("priority for owner '" + c.owner() + "' must not be null");
    }
    checkLease(c.lease());
    if (c.initial() != State.WARM && c.initial() != State.ACTIVE) {
      throw new IllegalArgumentException("initial state must be WARM or ACTIVE, was " + c.initial());
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

  // ---------------------------------------------------------------- snapshot form

  /** Writes the whole state (recent events excluded: listeners that fall that far behind are told so). */
  void writeTo(DataOutputStream out) throws IOException {
    out.writeLong(nextId);
    out.writeLong(sequence);
    Codec.writeInstant(out, time);
    out.writeInt(nodes.size());
    for (Node n : nodes.values()) {
      out.writeUTF(n.id);
      Codec.writeResources(out, n.capacity);
    }
    List<Reservation> rs = new ArrayList<>(live.values());
    rs.sort(Comparator.comparingLong(Reservation::id));
    out.writeInt(rs.size());
    for (Reservation r : rs) {
      Codec.writeReservation(out, r);
    }
    int endedCount = 0;
    for (Reservation r : ended) {
      endedCount += r != null ? 1 : 0;
    }
    out.writeInt(endedCount);
    for (Reservation r : ended) {
      if (r != null) {
        Codec.writeReservation(out, r);
      }
    }
  }

  static LedgerState readFrom(DataInputStream in) throws IOException {
    LedgerState s = new LedgerState();
    s.nextId = in.readLong();
    s.sequence = in.readLong();
    s.time = Codec.readInstant(in);
    int nodeCount = in.readInt();
    for (int i = 0; i < nodeCount; i++) {
      String id = in.readUTF();
      s.nodes.put(id, new Node(id, Codec.readResources(in)));
    }
    int liveCount = in.readInt();
    for (int i = 0; i < liveCount; i++) {
      Reservation r = Codec.readReservation(in);
      Node n = s.nodes.get(r.node());
      if (n == null) {
        throw new IOException("snapshot holds reservation " + r.id() + " on unknown node '" + r.node() + "'");
      }
      s.live.put(r.id(), r);
      s.leases.add(r);
      n.reservations.put(r.id(), r);
      n.used = n.used.plus(r.amount());
    }
    int endedCount = in.readInt();
    for (int i = 0; i < endedCount; i++) {
      Reservation r = Codec.readReservation(in);
      s.ended[(int) (r.id() & (ENDED_MEMORY - 1))] = r;
    }
    return s;
  }
}
