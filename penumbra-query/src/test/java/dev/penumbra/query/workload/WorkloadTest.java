package dev.penumbra.query.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WorkloadTest {
  final Workload w = Workload.tpch(0.01);

  @Test
  void hasAtLeastThirtyTemplatesCoveringEveryCostClassWithSomeHeldOut() {
    assertThat(w.templates()).hasSizeGreaterThanOrEqualTo(30);
    Set<CostClass> classes = EnumSet.noneOf(CostClass.class);
    w.templates().forEach(t -> classes.add(t.costClass()));
    assertThat(classes).containsExactlyInAnyOrder(CostClass.values());
    assertThat(w.heldOutTemplates()).hasSizeBetween(3, 6).allMatch(QueryTemplate::heldOut);
    assertThat(w.trainingTemplates()).noneMatch(QueryTemplate::heldOut);
  }

  @Test
  void samplingIsDeterministicBySeedAndSeparatesHeldOutTemplates() {
    Random a = new Random(5);
    Random b = new Random(5);
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 500; i++) {
      QuerySpec q = w.sample(a);
      assertThat(w.sample(b)).isEqualTo(q);
      assertThat(q.heldOut()).isFalse();
      seen.add(q.template());
    }
    assertThat(seen).hasSize(w.trainingTemplates().size());
    for (int i = 0; i < 50; i++) {
      assertThat(w.sampleHeldOut(a).heldOut()).isTrue();
    }
  }

  @Test
  void parametersVaryWithinATemplate() {
    Random r = new Random(3);
    Set<String> texts = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      texts.add(w.sample("sorted_lines", r).sql());
    }
    assertThat(texts).hasSizeGreaterThan(15);
  }

  @Test
  void rejectsUnknownTemplatesAndBadKeyRanges() {
    assertThatThrownBy(() -> w.template("nope")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nope");
    assertThatThrownBy(() -> new Params(0, 1, 1, 1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("orders=0");
  }
}
