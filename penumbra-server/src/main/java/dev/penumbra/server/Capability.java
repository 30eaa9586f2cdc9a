package dev.penumbra.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.penumbra.core.Priority;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Optional;
import java.util.Random;

/**
 * One kind of work the server shadows, predicts and reserves for (queries, streams, tasks ...). The server gives
 * each capability the shared ledger at creation and asks it for the rest through this interface.
 *
 * <p>Every capability states what is its own (routes, meters, a demo step, its lifecycle) and gives its loop-facing
 * parts (ready, in flight, queued, errors, timeline, shadow cost, loops) as one {@link LoopView}: callers read those
 * from {@link #view()}. What only some capabilities have is a small sub-interface with no-op defaults, as Apache
 * Ratis does for its state machine: {@link Learning} (what it learned, kept across restarts), {@link Timed} (work on
 * the server's timer) and {@link Admission} (work that waits for capacity). A capability implements the parts it has;
 * the server reaches them through {@link #learning()}, {@link #timed()} and {@link #admission()}, which answer with
 * the capability itself or with the part's no-op.
 */
public interface Capability extends AutoCloseable {

  /** Short lower-case name, used in URLs, metric tags and the dashboard ("query"): the view's. */
  default String name() {
    return view().name();
  }

  /** The capability's loop-facing parts, built once from what it holds. */
  LoopView view();

  /** Registers this capability's routes under {@code /v1/...}; every one must be in the OpenAPI file. */
  void routes(Api api);

  /** Registers this capability's own meters (queue length, shadow overhead ...). */
  void metrics(MeterRegistry registry);

  /** Performs one unit of the demo workload (e.g. submits one query and waits for it). */
  void demoStep(Random random) throws Exception;

  /**
   * Prepares what takes time (e.g. generating a database); called once, on a background thread, after the
   * server listens. Until it returns, the view is not ready.
   */
  default void start() throws Exception {}

  /** Stops and frees everything; what is still running is abandoned and its reservations released. */
  @Override
  void close();

  /** This capability's {@link Learning}, or {@link Learning#NONE} when it keeps nothing. */
  default Learning learning() {
    return this instanceof Learning l ? l : Learning.NONE;
  }

  /** This capability's {@link Timed} part, or {@link Timed#NONE}. */
  default Timed timed() {
    return this instanceof Timed t ? t : Timed.NONE;
  }

  /** This capability's {@link Admission} part, or {@link Admission#NONE}. */
  default Admission admission() {
    return this instanceof Admission a ? a : Admission.NONE;
  }

  /**
   * What a capability learns (models, profiles, error statistics), for the server to keep under its data directory
   * so a restart loses nothing.
   */
  interface Learning {
    /** Keeps nothing. */
    Learning NONE = new Learning() {};

    /**
     * What this capability has learned as JSON; empty when it keeps nothing. Called about once a second and at stop,
     * only while the view is ready; must be cheap enough for that.
     */
    default Optional<JsonNode> learned() {
      return Optional.empty();
    }

    /**
     * Puts back what {@link #learned()} gave in an earlier run; called once, after {@link Capability#start()} returned.
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
  }

  /** Work driven by time rather than by requests. */
  interface Timed {
    /** Nothing on the timer. */
    Timed NONE = new Timed() {};

    /**
     * Time-driven work (e.g. failing queued requests whose deadline has come), called by the server's ledger timer
     * every pass after due leases were expired. Must be quick and must not block.
     */
    default void tick() {}
  }

  /** Work that can wait for capacity, which the server's manual holds must then give way to. */
  interface Admission {
    /** Nothing ever waits. */
    Admission NONE = new Admission() {};

    /**
     * The most urgent priority of this capability's work waiting for capacity now, if any: the server then frees
     * manual holds of lower priority.
     */
    default Optional<Priority> mostUrgentWaiting() {
      return Optional.empty();
    }
  }
}
