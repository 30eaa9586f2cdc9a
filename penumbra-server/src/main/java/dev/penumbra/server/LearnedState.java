package dev.penumbra.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Nothing learned is lost: what each capability learned ({@link Capability.Learning#learned()}: models, profiles, error
 * statistics) is put back from the data directory once the capability has started, and saved every
 * {@link #PERIOD} (when it changed) and at stop. A SIGKILL loses at most the last period's learning.
 *
 * <p>When a capability cannot take its saved state back, its file is set aside under a new name (never deleted) and
 * the capability goes on cold or re-fed from its other files, so a bug or a changed model cannot destroy what an
 * earlier run learned, and what this run learns is saved.
 */
final class LearnedState implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LearnedState.class);
  static final Duration PERIOD = Duration.ofSeconds(1);

  private final DataDir dir;
  private final List<Capability> capabilities;
  /** Capabilities whose restore ran (only these are saved: an earlier save must not be overwritten before). */
  private final Set<String> restored = ConcurrentHashMap.newKeySet();
  private final Map<String, String> lastSaved = new ConcurrentHashMap<>();
  /** Per capability, the model version on disk (a model is rewritten only when it changed). */
  private final Map<String, Long> savedModelVersion = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer;

  LearnedState(DataDir dir, List<Capability> capabilities) {
    this.dir = dir;
    this.capabilities = capabilities;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "penumbra-save-learned");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(this::saveAll, PERIOD.toMillis(), PERIOD.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Puts back what {@code c} learned in an earlier run; called once its start returned. A saved file the capability
   * cannot take back is set aside (renamed, not deleted) with a WARN naming it and the reason, and the capability goes
   * on with what it has: what it learns from now on is saved as usual.
   */
  void restore(Capability c, java.util.function.Consumer<String> progress) {
    Optional<JsonNode> saved = dir.learned(c.name());
    Optional<JsonNode> model = dir.model(c.name());
    try {
      if (!c.learning().restoreLearned(saved.orElseGet(Json.MAPPER::createObjectNode), model)) {
        String aside = dir.setAsideModel(c.name());
        LOG.warn("the saved model of {} was not used; its file is kept as {}", c.name(), aside);
        progress.accept("the saved model of " + c.name() + " was not used; kept as " + aside);
      } else if (saved.isPresent() || model.isPresent()) {
        progress.accept("restored what " + c.name() + " learned before");
      }
    } catch (RuntimeException e) {
      String aside = saved.isPresent() ? dir.setAsideLearned(c.name()) : null;
      LOG.warn("cannot restore what {} learned from the data directory ({}); {}; it goes on with what it has",
          c.name(), e.getMessage(), aside == null ? "nothing set aside" : "the file is kept as " + aside);
      progress.accept("could not restore " + c.name() + "'s learned state: " + e.getMessage()
          + (aside == null ? "" : "; kept as " + aside));
    }
    savedModelVersion.put(c.name(), c.learning().modelVersion());
    restored.add(c.name());
  }

  /** Saves what changed since the last save. */
  synchronized void saveAll() {
    saveAll(false);
  }

  /** ... and, when {@code final}, each model once more (its sample window grows between trainings). */
  private void saveAll(boolean last) {
    for (Capability c : capabilities) {
      if (!restored.contains(c.name()) || !c.view().ready()) {
        continue;
      }
      try {
        long version = c.learning().modelVersion();
        if (version >= 0 && (last || version != savedModelVersion.getOrDefault(c.name(), -1L))) {
          Optional<JsonNode> m = c.learning().model();
          if (m.isPresent()) {
            dir.saveModel(c.name(), m.get());
            savedModelVersion.put(c.name(), version);
            c.learning().modelSaved(m.get());
          }
        }
      } catch (RuntimeException e) {
        LOG.warn("saving {}'s model failed", c.name(), e);
      }
      try {
        Optional<JsonNode> state = c.learning().learned();
        if (state.isEmpty()) {
          continue;
        }
        String text = state.get().toString();
        if (!text.equals(lastSaved.get(c.name()))) {
          dir.saveLearned(c.name(), state.get());
          lastSaved.put(c.name(), text);
        }
      } catch (RuntimeException e) {
        LOG.warn("saving what {} learned failed", c.name(), e);
      }
    }
  }

  /** Stops the periodic save and saves one last time (before the capabilities close). */
  @Override
  public void close() {
    // Not shutdownNow: interrupting a save mid-write closes its file channel and fails it; the last one is waited for.
    timer.shutdown();
    try {
      timer.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (this) {
      saveAll(true);
    }
  }
}
