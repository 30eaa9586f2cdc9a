package dev.penumbra.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.penumbra.core.feedback.ErrorTracker;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.Random;

/**
 * One kind of work the server shadows, predicts and reserves for (queries, streams, tasks). The server
 * gives each capability the shared ledger at creation and asks it for the rest through this interface. A
 * capability states what is its own (name, routes, meters, demo step, lifecycle) and gives its loop-facing parts
 * as one {@link LoopView}; the optional parts (start, tick, learned state, urgency) default to nothing.
 */
public interface Capability extends AutoCloseable {

  /** Short lower-case name, used in URLs, metric tags and the dashboard ("query"): the view's. */
  default String name() {
    return view().name();
  }

  /** Registers this capability's routes under {@code /v1/...}; every one must be in the OpenAPI file. */
  void routes(Api api);

  /** Registers this capability's own meters (queue length, shadow overhead ...). */
  void metrics(MeterRegistry registry);

  /**
   * Prepares what takes time (e.g. generating a database); called once, on a background thread, after the
   * server listens. Until it returns, {@link #ready()} is false.
   */
  default void start() throws Exception {}

  /**
   * The capability's name and the loop-facing parts the server reads (ready, in flight, queued, errors, timeline,
   * shadow cost, loops), built once from what the capability holds; the methods below answer from it.
   */
  LoopView view();

  /** True once the capability can take work (e.g. its database is generated). */
  default boolean ready() {
    return view().ready();
  }

  /** Work admitted and not finished: waiting for a reservation or running. */
  default int inFlight() {
    return view().inFlight();
  }

  /** Work waiting for a reservation. */
  default int queued() {
    return view().queued();
  }

  /** Where the predictions of this capability are scored (per model). */
  default ErrorTracker errors() {
    return view().errors();
  }

  /** Predicted vs reserved vs actual use, and the baseline's reservation, over time (for the dashboard). */
  default Timeline timeline() {
    return view().timeline();
  }

  /** Shadow cost relative to the primary work: sum of shadow time / sum of primary time, NaN before any. */
  default double shadowOverhead() {
    return view().shadowOverhead();
  }

  /** Performs one unit of the demo workload (e.g. submits one query and waits for it). */
  void demoStep(Random random) throws Exception;

  /**
   * Time-driven work (e.g. failing queued requests whose deadline has come), called by the server's ledger
   * timer every pass after due leases were expired. Must be quick and must not block.
   */
  default void tick() {}

  /**
   * The capability's control loops as they stand (reserved vs used resource-time, the baseline guard's acting rule
   * and both running costs), for the dashboard; empty for a capability without one.
   */
  default java.util.List<dev.penumbra.core.loop.LoopStats> loops() {
    return view().loops();
  }

  /**
   * The most urgent priority of this capability's work waiting for capacity now, if any: the server then frees
   * manual holds of lower priority.
   */
  default java.util.Optional<dev.penumbra.core.Priority> mostUrgentWaiting() {
    return Optional.empty();
  }

  /**
   * What this capability has learned (models, profiles, error statistics) as JSON, for the server to keep under
   * its data directory so a restart loses nothing; empty when it keeps nothing. Called about once a second and at
   * stop, only while {@link #ready()}; must be cheap enough for that.
   */
  default Optional<JsonNode> learned() {
    return Optional.empty();
  }

  /**
   * Puts back what {@link #learned()} gave in an earlier run; called once, after {@link #start()} returned.
   *
   * @throws IllegalArgumentException when the saved state cannot be read (the server then sets its file aside and
   *     the capability goes on with what it has)
   */
  default void restoreLearned(JsonNode saved) {}

  /**
   * A fitted model, the large part of what it learned, kept in a file of its own ({@code model-<name>.json}) and
   * rewritten only when {@link #modelVersion()} changes and at stop, not every second with {@link #learned()}.
   */
  default Optional<JsonNode> model() {
    return Optional.empty();
  }

  /** The version of {@link #model()} (a new one after each training), or -1 while there is none. */
  default long modelVersion() {
    return -1;
  }

  /**
   * {@link #restoreLearned(JsonNode)} with the saved {@link #model()} when there is one: a capability that keeps a
   * model puts it back first, and re-feeds its learned runs to the model instead when the saved one does not fit.
   * Called at every start with a data directory, with an empty object when nothing was saved.
   *
   * @return false when {@code model} was given and not used: the server then sets its file aside
   */
  default boolean restoreLearned(JsonNode saved, Optional<JsonNode> model) {
    if (!saved.isEmpty()) {
      restoreLearned(saved);
    }
    return model.isEmpty();
  }

  /**
   * Called once {@link #model()}'s state {@code saved} is durably in its file (a capability that journals what the
   * model learns between saves drops what the file now holds).
   */
  default void modelSaved(JsonNode saved) {}

  /**
   * Waits up to {@code grace} for in-flight work to finish; returns true when none is left. The view wakes the
   * wait when the capability signals that work ended ({@link LoopView#changed()}), so nothing polls.
   */
  default boolean awaitIdle(Duration grace) throws InterruptedException {
    return view().awaitIdle(grace);
  }

  /** Stops and frees everything; what is still running is abandoned and its reservations released. */
  @Override
  void close();
}
