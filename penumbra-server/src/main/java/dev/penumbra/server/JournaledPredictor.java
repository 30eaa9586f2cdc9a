package dev.penumbra.server;

import dev.penumbra.core.Resources;
import dev.penumbra.core.Demand;
import dev.penumbra.core.feedback.ErrorStats;
import dev.penumbra.core.predict.Features;
import dev.penumbra.core.predict.Predictor;
import dev.penumbra.ml.SavedModel;
import dev.penumbra.ml.TreePredictor;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TreePredictor} whose every learned sample is also appended to a {@link SampleJournal} before
 * {@link #learn} returns. Learning and {@link #save} take one lock, so a saved model's window holds exactly the
 * samples up to the journal number it is saved with, and a start replays exactly the later ones.
 */
final class JournaledPredictor implements Predictor, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(JournaledPredictor.class);

  /** A model's saved state and the number of the last journaled sample its window holds. */
  record Saved(SavedModel model, long journalSeq) {}

  private final TreePredictor trees;
  private volatile SampleJournal journal;
  /** Time of each journal append (write and fsync), once the server's metrics are registered. */
  private volatile io.micrometer.core.instrument.Timer appends;

  JournaledPredictor(TreePredictor trees) {
    this.trees = trees;
  }

  /** Journals from now on into {@code j} (null: no more). */
  synchronized void journal(SampleJournal j) {
    this.journal = j;
  }

  SampleJournal journal() {
    return journal;
  }

  /** Times each append from now on ({@code penumbra_query_journal_append_seconds}). */
  void timer(io.micrometer.core.instrument.Timer t) {
    this.appends = t;
  }

  @Override
  public String name() {
    return trees.name();
  }

  @Override
  public Demand predict(Features features) {
    return trees.predict(features);
  }

  @Override
  public synchronized void learn(Features features, Resources actual) {
    trees.learn(features, actual);
    SampleJournal j = journal;
    if (j != null) {
      long t0 = System.nanoTime();
      try {
        j.append(features, actual);
        io.micrometer.core.instrument.Timer t = appends;
        if (t != null) {
          t.record(System.nanoTime() - t0, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
      } catch (RuntimeException e) {
        // The model has the sample; it reaches the disk with the next saved model. The query's answer stands.
        LOG.warn("{}: the sample was learned but not journaled: {}", trees.name(), e.getMessage());
      }
    }
  }

  /** Learns samples already in the journal (a start's replay): not appended again. */
  synchronized void replay(Features features, Resources actual) {
    trees.learn(features, actual);
  }

  /** The model's saved state with the journal number it covers; empty before a first model. */
  synchronized Optional<Saved> save() {
    SampleJournal j = journal;
    return trees.save().map(m -> new Saved(m, j == null ? 0 : j.seq()));
  }

  @Override
  public boolean fitted() {
    return trees.fitted();
  }

  @Override
  public ErrorStats errors(Resources.Dimension dimension) {
    return trees.errors(dimension);
  }

  /** Stops the model's training thread (the query predictor closes its model when the gateway closes). */
  @Override
  public void close() {
    trees.close();
  }
}
