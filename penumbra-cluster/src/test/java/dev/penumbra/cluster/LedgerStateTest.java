package dev.penumbra.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation.State;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The replicated state without Raft: written out and read back mid-history, it goes on exactly like the
 * original (what a replica restarted from a snapshot does); commands survive the codec unchanged; the time of
 * a command never moves the ledger's time back.
 */
class LedgerStateTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @ParameterizedTest
  @ValueSource(longs = {5, 6, 7})
  void aStateReadBackFromItsSnapshotGoesOnLikeTheOriginal(long seed) throws Exception {
    LedgerState a = new LedgerState();
    a.apply(Command.addNode("x", Resources.of(2000, 1L << 30)), T0);
    a.apply(Command.addNode("y", Resources.cpu(1000)), T0);
    Random rnd = new Random(seed);
    Instant t = T0;
    List<Command> script = new java.util.ArrayList<>();
    for (int i = 0; i < 400; i++) {
      int op = rnd.nextInt(6);
      long id = 1 + rnd.nextInt(i / 2 + 1);
      String node = rnd.nextBoolean() ? "x" : "y";
      Resources amount = Resources.cpu(50 + rnd.nextInt(400));
      Duration lease = Duration.ofSeconds(1 + rnd.nextInt(30));
      Priority p = Priority.values()[rnd.nextInt(3)];
      script.add(switch (op) {
        case 0, 1 -> Command.reserve(false, "o" + i, node, amount, p, lease, State.WARM);
        case 2 -> Command.reserve(true, "o" + i, node, amount, p, lease, State.ACTIVE);
        case 3 -> Command.onReservation(Command.Op.RESIZE, id, amount, null);
        case 4 -> Command.onReservation(Command.Op.RENEW, id, null, lease);
        default -> Command.onReservation(Command.Op.RELEASE, id, null, null);
      });
    }
    for (int i = 0; i < 200; i++) {
      t = t.plusMillis(rnd.nextInt(2000));
      a.apply(script.get(i), t);
    }
    byte[] bytes = Codec.write(a::writeTo);
    LedgerState b = LedgerState.readFrom(new DataInputStream(new ByteArrayInputStream(bytes)));
    assertThat(b.sequence()).isEqualTo(a.sequence());
    assertThat(b.localSnapshot().reservations()).isEqualTo(a.localSnapshot().reservations());
    for (int i = 200; i < 400; i++) {
      t = t.plusMillis(rnd.nextInt(2000));
      Outcome oa = a.apply(script.get(i), t);
      Outcome ob = b.apply(script.get(i), t);
      assertThat(ob).as("step %d", i).isEqualTo(oa);
      assertThat(a.checkInvariant()).isNull();
    }
    assertThat(b.localSnapshot().nodes()).isEqualTo(a.localSnapshot().nodes());
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2})
  void commandsAndOutcomesSurviveTheCodec(long seed) throws Exception {
    LedgerState s = new LedgerState();
    Random rnd = new Random(seed);
    List<Codec.Op> ops = List.of(
        new Codec.Op(1, T0, Command.addNode("n", Resources.of(1000, 2000))),
        new Codec.Op(2, T0.plusNanos(7), Command.reserve(true, "o", "n", Resources.cpu(10 + rnd.nextInt(90)),
            Priority.CRITICAL, Duration.ofSeconds(3, 5), State.ACTIVE)),
        new Codec.Op(3, T0, Command.reserve(false, null, null, null, null, null, null)),
        new Codec.Op(4, T0, Command.simple(Command.Op.SNAPSHOT)));
    Codec.Batch batch = new Codec.Batch("client-1", 1, ops);
    Codec.Batch back = Codec.decodeBatch(new DataInputStream(new ByteArrayInputStream(Codec.encodeBatch(batch))));
    assertThat(back).isEqualTo(batch);
    List<Outcome> outcomes = ops.stream().map(o -> s.apply(o.command(), o.time())).toList();
    Codec.Reply reply = new Codec.Reply(outcomes);
    Codec.Reply decoded = Codec.decodeReply(new DataInputStream(new ByteArrayInputStream(Codec.encodeReply(reply))));
    assertThat(decoded).isEqualTo(reply);
    assertThat(decoded.outcomes().get(2).error()).isEqualTo(Outcome.Error.ILLEGAL_ARGUMENT);
    assertThat(decoded.outcomes().get(2).message()).isEqualTo("owner must not be null or blank, was null");
  }

  @org.junit.jupiter.api.Test
  void anEarlierClockNeverMovesTheLedgerBack() {
    LedgerState s = new LedgerState();
    s.apply(Command.addNode("n", Resources.cpu(100)), T0.plusSeconds(10));
    Outcome o = s.apply(Command.reserve(false, "o", "n", Resources.cpu(1), Priority.BATCH, Duration.ofSeconds(5),
        State.WARM), T0);
    assertThat(o.reservation().created()).isEqualTo(T0.plusSeconds(10));
    assertThat(o.reservation().leaseExpiry()).isEqualTo(T0.plusSeconds(15));
    assertThat(s.time()).isEqualTo(T0.plusSeconds(10));
  }
}
