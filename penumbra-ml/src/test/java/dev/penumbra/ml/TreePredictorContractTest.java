package dev.penumbra.ml;

import dev.penumbra.core.predict.Predictor;
import dev.penumbra.core.predict.PredictorContract;
import org.junit.jupiter.api.Nested;

/** The Predictor contract on both tree backends, trained synchronously so the tests are deterministic. */
class TreePredictorContractTest {

  abstract static class Trees extends PredictorContract {
    abstract TreePredictor.Backend backend();

    @Override
    protected Predictor newPredictor() {
      return TreePredictor.builder().backend(backend()).minSamples(30).trees(20).maxDepth(4).seed(7)
          .executor(Runnable::run).build();
    }

    @Override
    protected void settle(Predictor predictor) {
      ((TreePredictor) predictor).retrainNow();
    }
  }

  @Nested
  class Xgboost extends Trees {
    @Override
    TreePredictor.Backend backend() {
      return TreePredictor.Backend.XGBOOST;
    }
  }

  @Nested
  class Cart extends Trees {
    @Override
    TreePredictor.Backend backend() {
      return TreePredictor.Backend.CART;
    }
  }
}
