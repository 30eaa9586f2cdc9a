package dev.penumbra.core.loop;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.predict.Features;
import dev.penumbra.core.predict.Predictor;

/**
 * The predict and learn steps of a loop: turns what a capability's shadow observed ({@code S}: a shadow run's
 * profile, a partition's sampled rate, a task's sampled phase, a node's risk signals) into the one prediction
 * type, a {@link Demand}, and learns from what the work turned out to use.
 *
 * @param <S> the signal the capability's shadow produces
 */
public interface Model<S> {

  /** The model's name: {@link Demand#model()} of what it predicts and the key of its error statistics. */
  String name();

  /** The demand of the work {@code signal} describes. Never blocks on training. */
  Demand predict(S signal);

  /** What the work {@code signal} described actually used; the default learns nothing. */
  default void learn(S signal, Resources actual) {}

  /** A feature-based {@link Predictor} as a model (its own scoring happens in {@link Predictor#learn}). */
  static Model<Features> of(Predictor predictor) {
    Checks.notNull("predictor", predictor);
    return new Model<>() {
      @Override
      public String name() {
        return predictor.name();
      }

      @Override
      public Demand predict(Features signal) {
        return predictor.predict(signal);
      }

      @Override
      public void learn(Features signal, Resources actual) {
        predictor.learn(signal, actual);
      }
    };
  }

  /**
   * A model for work whose demand arrives already predicted (the capability ran its own predictor and hands the
   * loop the {@link Demand}); it learns nothing itself.
   */
  static Model<Demand> given(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("model name must not be blank, was " + name);
    }
    return new Model<>() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public Demand predict(Demand signal) {
        return signal;
      }
    };
  }
}
