package dev.penumbra.cluster;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.LedgerEvent;
import dev.penumbra.core.ledger.LedgerSnapshot;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.ledger.Reservation.State;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The binary form of what goes through the Raft log and back: a fixed field order with a presence byte for
 * what may be null. Hand-written rather than JSON because every operation is encoded once and decoded on every
 * replica (it is on the commit path), and the ledger's values hold Instants and Durations a plain mapper does
 * not read. Enums travel by name so that reordering them never changes the meaning of an old log.
 */
final class Codec {

  private Codec() {}

  /** A batch of operations from one client session. */
  record Batch(String client, long ackedBelow, List<Op> ops) {}

  /** One operation: the client's sequence number, the client's instant, the command. */
  record Op(long seq, Instant time, Command command) {}

  /** What the state machine answers for a batch, one outcome per operation in order. */
  record Reply(List<Outcome> outcomes) {}

  // ---------------------------------------------------------------- top level

  static byte[] encodeBatch(Batch b) {
    return write(out -> {
      out.writeUTF(b.client());
      out.writeLong(b.ackedBelow());
      out.writeInt(b.ops().size());
      for (Op op : b.ops()) {
        out.writeLong(op.seq());
        writeInstant(out, op.time());
        writeCommand(out, op.command());
      }
    });
  }

  static Batch decodeBatch(DataInputStream in) throws IOException {
    String client = in.readUTF();
    long acked = in.readLong();
    int n = in.readInt();
    List<Op> ops = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ops.add(new Op(in.readLong(), readInstant(in), readCommand(in)));
    }
    return new Batch(client, acked, ops);
  }

  static byte[] encodeReply(Reply r) {
    return write(out -> {
      out.writeInt(r.outcomes().size());
      for (Outcome o : r.outcomes()) {
        writeOutcome(out, o);
      }
    });
  }

  static Reply decodeReply(DataInputStream in) throws IOException {
    int n = in.readInt();
    List<Outcome> os = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      os.add(readOutcome(in));
    }
    return new Reply(os);
  }

  static byte[] encodeEvents(List<LedgerEvent> events) {
    return write(out -> writeEvents(out, events));
  }

  static List<LedgerEvent> decodeEvents(DataInputStream in) throws IOException {
    return readEvents(in);
  }

  @FunctionalInterface
  interface Writer {
    void write(DataOutputStream out) throws IOException;
  }

  static byte[] write(Writer w) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      w.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  // ---------------------------------------------------------------- commands and outcomes

  static void writeCommand(DataOutputStream out, Command c) throws IOException {
    out.writeUTF(c.op().name());
    writeString(out, c.owner());
    writeString(out, c.node());
    writeNullableResources(out, c.amount());
    writeString(out, c.priority() == null ? null : c.priority().name());
    if (c.lease() == null) {
      out.writeBoolean(false);
    } else {
      out.writeBoolean(true);
      out.writeLong(c.lease().getSeconds());
      out.writeInt(c.lease().getNano());
    }
    writeString(out, c.initial() == null ? null : c.initial().name());
    out.writeLong(c.id());
  }

  static Command readCommand(DataInputStream in) throws IOException {
    Command.Op op = Command.Op.valueOf(in.readUTF());
    String owner = readString(in);
    String node = readString(in);
    Resources amount = readNullableResources(in);
    String p = readString(in);
    Duration lease = in.readBoolean() ? Duration.ofSeconds(in.readLong(), in.readInt()) : null;
    String s = readString(in);
    long id = in.readLong();
    return new Command(op, owner, node, amount, p == null ? null : Priority.valueOf(p), lease,
        s == null ? null : State.valueOf(s), id);
  }

  static void writeOutcome(DataOutputStream out, Outcome o) throws IOException {
    writeString(out, o.error() == null ? null : o.error().name());
    writeString(out, o.message());
    writeNullableReservation(out, o.reservation());
    writeReservations(out, o.list());
    out.writeBoolean(o.present());
    if (o.nodes() == null) {
      out.writeInt(-1);
    } else {
      out.writeInt(o.nodes().size());
      for (NodeView n : o.nodes()) {
        writeNode(out, n);
      }
    }
    if (o.snapshot() == null) {
      out.writeBoolean(false);
    } else {
      out.writeBoolean(true);
      LedgerSnapshot s = o.snapshot();
      out.writeLong(s.sequence());
      writeInstant(out, s.time());
      out.writeInt(s.nodes().size());
      for (NodeView n : s.nodes()) {
        writeNode(out, n);
      }
      writeReservations(out, s.reservations());
    }
    out.writeInt(o.count());
    writeEvents(out, o.events());
  }

  static Outcome readOutcome(DataInputStream in) throws IOException {
    String err = readString(in);
    String message = readString(in);
    Reservation r = readNullableReservation(in);
    List<Reservation> list = readReservations(in);
    boolean present = in.readBoolean();
    int nn = in.readInt();
    List<NodeView> nodes = null;
    if (nn >= 0) {
      nodes = new ArrayList<>(nn);
      for (int i = 0; i < nn; i++) {
        nodes.add(readNode(in));
      }
    }
    LedgerSnapshot snap = null;
    if (in.readBoolean()) {
      long seq = in.readLong();
      Instant t = readInstant(in);
      int k = in.readInt();
      List<NodeView> ns = new ArrayList<>(k);
      for (int i = 0; i < k; i++) {
        ns.add(readNode(in));
      }
      snap = new LedgerSnapshot(seq, t, ns, readReservations(in));
    }
    int count = in.readInt();
    List<LedgerEvent> events = readEvents(in);
    return new Outcome(err == null ? null : Outcome.Error.valueOf(err), message, r, list, present, nodes, snap,
        count, events);
  }

  // ---------------------------------------------------------------- values

  static void writeEvents(DataOutputStream out, List<LedgerEvent> events) throws IOException {
    out.writeInt(events.size());
    for (LedgerEvent e : events) {
      out.writeUTF(e.type().name());
      writeNullableReservation(out, e.before());
      writeNullableReservation(out, e.after());
      out.writeUTF(e.node());
      out.writeLong(e.sequence());
      writeInstant(out, e.time());
    }
  }

  static List<LedgerEvent> readEvents(DataInputStream in) throws IOException {
    int n = in.readInt();
    List<LedgerEvent> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(new LedgerEvent(LedgerEvent.Type.valueOf(in.readUTF()), readNullableReservation(in),
          readNullableReservation(in), in.readUTF(), in.readLong(), readInstant(in)));
    }
    return out;
  }

  static void writeReservations(DataOutputStream out, List<Reservation> rs) throws IOException {
    if (rs == null) {
      out.writeInt(-1);
      return;
    }
    out.writeInt(rs.size());
    for (Reservation r : rs) {
      writeReservation(out, r);
    }
  }

  static List<Reservation> readReservations(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0) {
      return null;
    }
    List<Reservation> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(readReservation(in));
    }
    return out;
  }

  static void writeNode(DataOutputStream out, NodeView n) throws IOException {
    out.writeUTF(n.id());
    writeResources(out, n.capacity());
    writeResources(out, n.used());
    out.writeInt(n.reservations());
  }

  static NodeView readNode(DataInputStream in) throws IOException {
    return new NodeView(in.readUTF(), readResources(in), readResources(in), in.readInt());
  }

  static void writeNullableReservation(DataOutputStream out, Reservation r) throws IOException {
    out.writeBoolean(r != null);
    if (r != null) {
      writeReservation(out, r);
    }
  }

  static Reservation readNullableReservation(DataInputStream in) throws IOException {
    return in.readBoolean() ? readReservation(in) : null;
  }

  static void writeReservation(DataOutputStream out, Reservation r) throws IOException {
    out.writeLong(r.id());
    out.writeUTF(r.owner());
    out.writeUTF(r.node());
    writeResources(out, r.amount());
    out.writeUTF(r.priority().name());
    out.writeUTF(r.state().name());
    writeInstant(out, r.created());
    writeInstant(out, r.leaseExpiry());
  }

  static Reservation readReservation(DataInputStream in) throws IOException {
    return new Reservation(in.readLong(), in.readUTF(), in.readUTF(), readResources(in),
        Priority.valueOf(in.readUTF()), State.valueOf(in.readUTF()), readInstant(in), readInstant(in));
  }

  static void writeResources(DataOutputStream out, Resources r) throws IOException {
    out.writeLong(r.cpuMillis());
    out.writeLong(r.memoryBytes());
    out.writeLong(r.ioBytesPerSec());
    out.writeLong(r.networkBytesPerSec());
  }

  static Resources readResources(DataInputStream in) throws IOException {
    return new Resources(in.readLong(), in.readLong(), in.readLong(), in.readLong());
  }

  static void writeNullableResources(DataOutputStream out, Resources r) throws IOException {
    out.writeBoolean(r != null);
    if (r != null) {
      writeResources(out, r);
    }
  }

  static Resources readNullableResources(DataInputStream in) throws IOException {
    return in.readBoolean() ? readResources(in) : null;
  }

  static void writeInstant(DataOutputStream out, Instant t) throws IOException {
    out.writeLong(t.getEpochSecond());
    out.writeInt(t.getNano());
  }

  static Instant readInstant(DataInputStream in) throws IOException {
    return Instant.ofEpochSecond(in.readLong(), in.readInt());
  }

  static void writeString(DataOutputStream out, String s) throws IOException {
    out.writeBoolean(s != null);
    if (s != null) {
      out.writeUTF(s);
    }
  }

  static String readString(DataInputStream in) throws IOException {
    return in.readBoolean() ? in.readUTF() : null;
  }
}
