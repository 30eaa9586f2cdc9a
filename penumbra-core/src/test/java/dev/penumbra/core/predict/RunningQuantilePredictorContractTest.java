package dev.penumbra.core.predict;

class RunningQuantilePredictorContractTest extends PredictorContract {
  @Override
  protected Predictor newPredictor() {
    return new RunningQuantilePredictor("running");
  }
}
