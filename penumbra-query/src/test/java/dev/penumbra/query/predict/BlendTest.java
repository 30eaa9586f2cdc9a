package dev.penumbra.query.predict;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.query.predict.QueryPrediction.Tier;
import org.junit.jupiter.api.Test;

class BlendTest {

  @Test
  void aNewShapeMeetsTheModelInTheMiddleAndKeepsTheOperatorsSpread() {
    QueryPrediction ops = new QueryPrediction("fp", Estimate.of(400, 800, 1600), Estimate.of(100, 300, 900),
        Estimate.of(50, 100, 200), Estimate.of(10, 20, 40), Tier.SCALE_UP, false);
    QueryPrediction model = new QueryPrediction("fp", Estimate.of(100, 150, 200), Estimate.of(400, 500, 600),
        Estimate.of(50, 60, 70), Estimate.of(99, 99, 99), Tier.MODEL, true);
    QueryPrediction b = QueryPredictor.blend(ops, model);
    assertThat(b.memoryBytes().point()).isEqualTo(200);
    assertThat(b.memoryBytes().at(0.9)).isEqualTo(400);
    assertThat(b.memoryBytes().at(0.99)).isEqualTo(800);
    assertThat(b.cpuNanos().point()).isEqualTo(200);
    assertThat(b.cpuNanos().at(0.99)).isEqualTo(1800);
    assertThat(b.wallNanos().point()).isEqualTo(50);
    assertThat(b.bytesRead()).isEqualTo(ops.bytesRead());
    assertThat(b.tier()).isEqualTo(Tier.SCALE_UP);
    assertThat(b.lowConfidence()).isFalse();
  }

  @Test
  void eachMetricCanBeTakenFromTheOperatorsAlone() {
    QueryPrediction ops = new QueryPrediction("fp", Estimate.of(400, 800, 1600), Estimate.of(100, 300, 900),
        Estimate.of(50, 100, 200), Estimate.of(10, 20, 40), Tier.SCALE_UP, false);
    QueryPrediction model = new QueryPrediction("fp", Estimate.of(100, 150, 200), Estimate.of(400, 500, 600),
        Estimate.of(200, 260, 270), Estimate.of(99, 99, 99), Tier.MODEL, true);
    QueryPrediction memoryAlone = QueryPredictor.blend(ops, model, true, false);
    assertThat(memoryAlone.memoryBytes()).isEqualTo(ops.memoryBytes());
    assertThat(memoryAlone.cpuNanos().point()).isEqualTo(200);
    QueryPrediction timeAlone = QueryPredictor.blend(ops, model, false, true);
    assertThat(timeAlone.memoryBytes().point()).isEqualTo(200);
    assertThat(timeAlone.wallNanos()).isEqualTo(ops.wallNanos());
  }
}
