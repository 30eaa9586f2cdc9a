package dev.penumbra.eval.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.failover.FailoverEvent;
import dev.penumbra.failover.StandbyState;
import dev.penumbra.failover.Thresholds;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The failover report's figures and plots from a hand-made result; the writer's gap arithmetic. */
class FailoverReportsTest {

  static final LocalDate D0 = LocalDate.of(2013, 4, 25);

  static FailoverBench.NodeResult node(String name, LocalDate failsOn, List<FailoverEvent> moves,
      FailoverBench.MoveTimeline t) {
    List<FailoverBench.RiskPoint> risks = List.of(
        new FailoverBench.RiskPoint(D0, 0.001, StandbyState.NONE),
        new FailoverBench.RiskPoint(D0.plusDays(1), 0.005, StandbyState.PROVISIONING),
        new FailoverBench.RiskPoint(D0.plusDays(2), 0.02, StandbyState.READY));
    return new FailoverBench.NodeResult(name, "SERIAL-" + name, "failing, best predicted", failsOn, 0.02,
        failsOn != null, moves, 1000, 0, 0.25, Double.NaN, 3.0, 1, risks, t, 1.1, moves.isEmpty() ? Double.NaN : 1.5,
        moves.isEmpty() ? Double.NaN : 0.4);
  }

  @Test
  void tableJsonAndHtmlShowTheMoveTimelineTheStallsAndEachNodesRisk() throws Exception {
    FailoverEvent planned = new FailoverEvent("n0", FailoverEvent.Cause.PLANNED, true, 0.02, Instant.EPOCH, 224, null);
    FailoverBench.NodeResult n0 = node("n0", D0.plusDays(3), List.of(planned),
        new FailoverBench.MoveTimeline(7, 38, 58, 2, -5000));
    FailoverBench.NodeResult n1 = node("n1", null, List.of(), null);
    FailoverBench.PolicyResult p = FailoverBench.summarize("penumbra", List.of(n0, n1),
        FailoverBench.Options.defaults(java.nio.file.Path.of(".")), 40, 30.5, 33.0);
    assertThat(p.failures()).isEqualTo(1);
    assertThat(p.movedBeforeKill()).isEqualTo(1);
    assertThat(p.longestStallSeconds()).isEqualTo(1.1);
    // After the move: 1.5 s of standby (1.5 days at one day per second), 0.4 s at risk without one.
    assertThat(p.standbyDaysAfterMoves()).isEqualTo(1.5);
    assertThat(p.exposedSecondsAfterMoves()).isEqualTo(0.4);
    FailoverBench.Result r = new FailoverBench.Result("a..b", "c..d", 2, 3, 100,
        new Thresholds(0.001, 0.0025, 0.0164), true, 2, List.of(p));
    String table = FailoverReports.table(r);
    assertThat(table).contains("after moves: standby-days 1.50, at risk without a standby 0.4 s")
        .contains("7/38/58 w2 g-5000").contains("30.5-33.0").contains("by alarm rate");
    // JSON through the one mapper: days and instants as ISO text, NaN (a node without moves) as null.
    com.fasterxml.jackson.databind.JsonNode json = dev.penumbra.server.Json.MAPPER.readTree(FailoverReports.json(r));
    com.fasterxml.jackson.databind.JsonNode first = json.at("/policies/0/nodes/0");
    assertThat(first.get("failsOn").asText()).isEqualTo("2013-04-28");
    assertThat(first.at("/moves/0/started").asText()).isEqualTo("1970-01-01T00:00:00Z");
    assertThat(first.at("/risks/0/day").asText()).isEqualTo("2013-04-25");
    assertThat(json.at("/policies/0/nodes/1/standbySecondsAfterMove").isNull()).isTrue();
    String html = FailoverReports.html(r);
    assertThat(html).contains("Risk per node over the replayed days (penumbra)").contains("SERIAL-n0")
        .contains("planned promotion").contains("<polyline");
    // Every band and mark stays inside its plot (x from 200 to 620).
    for (String x : html.replaceAll("(?s).*Risk per node", "").split("x=\"")) {
      if (Character.isDigit(x.charAt(0)) && x.indexOf('"') > 0) {
        double v = Double.parseDouble(x.substring(0, x.indexOf('"')));
        assertThat(v).isBetween(0.0, 640.0);
      }
    }
  }

  @Test
  void writerFindsTheGapAroundAMove() {
    FailoverBench.Writer w = new FailoverBench.Writer(null, 100, new AtomicBoolean());
    for (long t : new long[] {100, 200, 300, 900, 1000}) {
      w.acked.add(t);
      w.ackedAt.add(t);
    }
    assertThat(w.lastAckBefore(350)).isEqualTo(300);
    assertThat(w.lastAckBefore(50)).isEqualTo(Long.MIN_VALUE);
    assertThat(w.firstAckAfter(350)).isEqualTo(900);
    assertThat(w.firstAckAfter(2000)).isEqualTo(Long.MAX_VALUE);
    assertThat(w.gap(0, 1100)).containsExactly(300, 900);
    assertThat(w.gap(950, 3000)).containsExactly(1000, 3000);
  }
}
