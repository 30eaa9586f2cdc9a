package dev.penumbra.cluster;

import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.LedgerBook;
import dev.penumbra.core.ledger.LedgerEvent;
import dev.penumbra.core.ledger.LedgerSnapshot;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Preemption;
import dev.penumbra.core.ledger.Reservation;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The replicated ledger's state on one replica: core's {@link LedgerBook} (the same state and rules as the
 * in-memory ledger, one implementation) driven only by the commands of the log and the instants they carry, never
 * a replica's clock, plus the recent events listeners catch up from. It writes itself out and reads itself back
 * with its ids (the book's image). Not thread-safe: the state machine applies one entry at a time under its lock.
 */
final class LedgerState {

  /** Events kept for listeners that catch up (a client whose own replies do not carry every change). */
  static final int EVENT_MEMORY = 16384;

  private final LedgerBook book;
  private final ArrayDeque<LedgerEvent> recent = new ArrayDeque<>();
  private Instant time = Instant.EPOCH;
  private List<LedgerEvent> produced = new ArrayList<>();

  LedgerState() {
    this.book = newBook(null);
  }

  private LedgerState(LedgerBook.Image image, Instant time) {
    this.book = newBook(image);
    this.time = time;
  }

  private LedgerBook newBook(LedgerBook.Image image) {
    LedgerBook b = image == null ? new LedgerBook(1, this::record) : LedgerBook.restore(image, this::record);
    b.recordEvents(true);
    return b;
  }

  private void record(LedgerEvent e) {
    produced.add(e);
    recent.addLast(e);
    if (recent.size() > EVENT_MEMORY) {
      recent.removeFirst();
    }
  }

  /** The ledger's time: the latest instant any applied command carried. */
  Instant time() {
    return time;
  }

  long sequence() {
    return book.sequence();
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
        book.addNode(c.node(), c.amount(), now);
        yield Outcome.of(null, produced);
      }
      case REMOVE_NODE -> {
        book.removeNode(c.node(), now);
        yield Outcome.of(null, produced);
      }
      case RESERVE -> Outcome.of(
          book.reserve(c.owner(), c.node(), c.amount(), c.priority(), c.lease(), c.initial(), now), produced);
      case RESERVE_PREEMPTING -> {
        Preemption p = book.reservePreempting(c.owner(), c.node(), c.amount(), c.priority(), c.lease(),
            c.initial(), now);
        yield new Outcome(null, null, p.reservation(), p.victims(), true, null, null, 0, produced);
      }
      case PLAN -> {
        Optional<List<Reservation>> plan = book.preemptionPlan(c.node(), c.amount(), c.priority(), now);
        yield new Outcome(null, null, null, plan.orElse(null), plan.isPresent(), null, null, 0, produced);
      }
      case ACTIVATE -> Outcome.of(book.activate(c.id(), now), produced);
      case RESIZE -> Outcome.of(book.resize(c.id(), c.amount(), now), produced);
      case RENEW -> Outcome.of(book.renew(c.id(), c.lease(), now), produced);
      case RELEASE -> Outcome.of(book.release(c.id(), now), produced);
      case EXPIRE_DUE -> new Outcome(null, null, null, null, false, null, null, book.expireDue(now), produced);
      case GET -> Outcome.of(book.get(c.id(), now).orElse(null), produced);
      case NODES -> new Outcome(null, null, null, null, false, List.copyOf(book.nodes(now)), null, 0, produced);
      case SNAPSHOT -> new Outcome(null, null, null, null, false, null, book.snapshot(now), 0, produced);
    };
  }

  // ---------------------------------------------------------------- reads for the state machine

  /** Nodes and live reservations as of the last applied command (no expiry: a read for checks and status). */
  LedgerSnapshot localSnapshot() {
    LedgerBook.Image image = book.image();
    List<NodeView> views = new ArrayList<>();
    Map<String, Resources> used = new LinkedHashMap<>();
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (Reservation r : image.live()) {
      used.merge(r.node(), r.amount(), Resources::plus);
      counts.merge(r.node(), 1, Integer::sum);
    }
    image.nodes().forEach((id, cap) -> views.add(new NodeView(id, cap, used.getOrDefault(id, Resources.ZERO),
        counts.getOrDefault(id, 0))));
    return new LedgerSnapshot(book.sequence(), time, views, image.live());
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

  /** The per-node invariant recomputed from the reservations (see {@link LedgerBook#checkInvariant()}). */
  String checkInvariant() {
    return book.checkInvariant();
  }

  // ---------------------------------------------------------------- snapshot form

  /** Writes the whole state (recent events excluded: listeners that fall that far behind are told so). */
  void writeTo(DataOutputStream out) throws IOException {
    LedgerBook.Image image = book.image();
    out.writeLong(image.nextId());
    out.writeLong(image.sequence());
    Codec.writeInstant(out, time);
    out.writeInt(image.nodes().size());
    for (Map.Entry<String, Resources> n : image.nodes().entrySet()) {
      out.writeUTF(n.getKey());
      Codec.writeResources(out, n.getValue());
    }
    out.writeInt(image.live().size());
    for (Reservation r : image.live()) {
      Codec.writeReservation(out, r);
    }
    out.writeInt(image.ended().size());
    for (Reservation r : image.ended()) {
      Codec.writeReservation(out, r);
    }
  }

  static LedgerState readFrom(DataInputStream in) throws IOException {
    long nextId = in.readLong();
    long sequence = in.readLong();
    Instant time = Codec.readInstant(in);
    Map<String, Resources> nodes = new LinkedHashMap<>();
    int nodeCount = in.readInt();
    for (int i = 0; i < nodeCount; i++) {
      String id = in.readUTF();
      nodes.put(id, Codec.readResources(in));
    }
    List<Reservation> live = new ArrayList<>();
    int liveCount = in.readInt();
    for (int i = 0; i < liveCount; i++) {
      live.add(Codec.readReservation(in));
    }
    List<Reservation> ended = new ArrayList<>();
    int endedCount = in.readInt();
    for (int i = 0; i < endedCount; i++) {
      ended.add(Codec.readReservation(in));
    }
    try {
      return new LedgerState(new LedgerBook.Image(nextId, sequence, nodes, live, ended), time);
    } catch (IllegalArgumentException e) {
      throw new IOException("the snapshot is not a consistent ledger: " + e.getMessage(), e);
    }
  }
}
