package dev.penumbra.ml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.predict.Features;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tribuo.protos.core.ModelProto;

/** A fitted predictor saved (Tribuo's protobuf) and put back into a fresh one answers exactly as before. */
class TreePredictorSaveTest {
  private static final List<Synthetic.Row> TRAIN = Synthetic.rows(1, 300);
  private static final List<Synthetic.Row> TEST = Synthetic.rows(2, 50);

  static TreePredictor fitted(TreePredictor.Backend backend) {
    TreePredictor p = TreePredictorTest.synchronous(backend).build();
    TreePredictorTest.learn(p, TRAIN);
    return p;
  }

  static Set<String> names() {
    return TRAIN.get(0).features().names();
  }

  @ParameterizedTest
  @EnumSource(value = TreePredictor.Backend.class, names = {"XGBOOST", "CART"})
  void aRestoredModelPredictsExactlyAsTheSavedOneAndKeepsItsSamples(TreePredictor.Backend backend) {
    try (TreePredictor before = fitted(backend); TreePredictor after = TreePredictorTest.synchronous(backend).build()) {
      SavedModel saved = before.save().orElseThrow();
      assertThat(saved.features()).containsExactlyInAnyOrderElementsOf(names());
      after.restore(saved, names());
      assertThat(after.fitted()).isTrue();
      assertThat(after.modelVersion()).isEqualTo(before.modelVersion());
      assertThat(after.historySize()).isEqualTo(before.historySize());
      for (Synthetic.Row r : TEST) {
        assertThat(after.predict(r.features())).isEqualTo(before.predict(r.features()));
      }
      // It keeps learning where the saved one stood: the next training comes at the same sample as it would have.
      TreePredictorTest.learn(before, Synthetic.rows(3, 200));
      TreePredictorTest.learn(after, Synthetic.rows(3, 200));
      assertThat(after.modelVersion()).isEqualTo(before.modelVersion());
      assertThat(after.predict(TEST.get(0).features())).isEqualTo(before.predict(TEST.get(0).features()));
    }
  }

  @Test
  void aModelOfAnotherFeatureSchemaIsRefusedNamingTheDifferenceAndNothingChanges() {
    try (TreePredictor before = fitted(TreePredictor.Backend.AUTO);
        TreePredictor after = TreePredictorTest.synchronous(TreePredictor.Backend.AUTO).build()) {
      SavedModel saved = before.save().orElseThrow();
      java.util.Set<String> now = new java.util.TreeSet<>(names());
      String dropped = now.iterator().next();
      now.remove(dropped);
      now.add("newFeature");
      assertThatThrownBy(() -> after.restore(saved, now)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("feature schema").hasMessageContaining("missing [newFeature]")
          .hasMessageContaining("no longer computed [" + dropped + "]");
      assertThat(after.fitted()).isFalse();
      assertThat(after.historySize()).isZero();
    }
  }

  @Test
  void aSavedFileCannotChooseTheClassTribuoInstantiates() {
    try (TreePredictor before = fitted(TreePredictor.Backend.AUTO);
        TreePredictor after = TreePredictorTest.synchronous(TreePredictor.Backend.AUTO).build()) {
      SavedModel s = before.save().orElseThrow();
      byte[] evil = ModelProto.newBuilder().setClassName("java.lang.ProcessBuilder").setVersion(0).build().toByteArray();
      SavedModel forged = new SavedModel(s.formatVersion(), s.name(), s.backend(), s.features(), s.dimensions(),
          s.levels(), s.offsets(), s.residualQuantiles(), s.label(), s.trainedOn(), s.calibrationSize(), s.version(),
          evil, s.sampleFeatures(), s.sampleActuals(), s.sinceTrain());
      assertThatThrownBy(() -> after.restore(forged, names())).hasMessageContaining("java.lang.ProcessBuilder")
          .hasMessageContaining("not one of");
      SavedModel newer = new SavedModel(2, s.name(), s.backend(), s.features(), s.dimensions(), s.levels(),
          s.offsets(), s.residualQuantiles(), s.label(), s.trainedOn(), s.calibrationSize(), s.version(), s.tribuo(),
          s.sampleFeatures(), s.sampleActuals(), s.sinceTrain());
      assertThatThrownBy(() -> after.restore(newer, names())).hasMessageContaining("format version 2");
      assertThat(after.fitted()).isFalse();
    }
  }

  @Test
  void nothingIsSavedBeforeTheFirstModel() {
    try (TreePredictor p = TreePredictorTest.synchronous(TreePredictor.Backend.AUTO).build()) {
      Features f = TRAIN.get(0).features();
      p.learn(f, TRAIN.get(0).actual());
      assertThat(p.save()).isEmpty();
    }
  }
}
