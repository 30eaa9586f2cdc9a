package dev.penumbra.server;

import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.loop.LoopStats;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleSupplier;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * What the server reads of a capability's loop for the dashboard, the metrics and shutdown: whether it takes work,
 * how much is in flight and queued, where its predictions are scored, its timeline, its shadow's cost and its
 * control loops' stats. A capability builds one from what it already holds and {@link Capability} answers from it,
 * so a capability class states only what is its own (routes, meters, demo, lifecycle). Unset parts read as a
 * capability with no work of that kind: always ready, nothing in flight or queued, no scores, no loops, no shadow.
 */
public final class LoopView {
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9]*");

  private final String name;
  private final BooleanSupplier ready;
  private final IntSupplier inFlight;
  private final IntSupplier queued;
  private final Supplier<ErrorTracker> errors;
  private final Timeline timeline;
  private final DoubleSupplier shadowOverhead;
  private final DoubleSupplier shadowOverheadRecent;
  private final Supplier<List<LoopStats>> loops;
  private final Idle idle;

  private LoopView(Builder b) {
    this.name = b.name;
    this.ready = b.ready;
    this.inFlight = b.inFlight;
    this.queued = b.queued;
    this.errors = b.errors;
    this.timeline = Objects.requireNonNull(b.timeline, "timeline");
    this.shadowOverhead = b.shadowOverhead;
    this.shadowOverheadRecent = b.shadowOverheadRecent;
    this.loops = b.loops;
    this.idle = new Idle(this::inFlight);
  }

  /**
   * The view of the capability called {@code name} (short, lower-case: it is used in URLs, metric tags and the
   * dashboard) over {@code timeline}, the parts every capability has; set the others it has.
   */
  public static Builder of(String name, Timeline timeline) {
    return new Builder(name, timeline);
  }

  public String name() {
    return name;
  }

  public boolean ready() {
    return ready.getAsBoolean();
  }

  public int inFlight() {
    return inFlight.getAsInt();
  }

  public int queued() {
    return queued.getAsInt();
  }

  public ErrorTracker errors() {
    return errors.get();
  }

  public Timeline timeline() {
    return timeline;
  }

  public double shadowOverhead() {
    return shadowOverhead.getAsDouble();
  }

  /** The shadow overhead over about the last minute (NaN where the capability keeps none). */
  public double shadowOverheadRecent() {
    return shadowOverheadRecent.getAsDouble();
  }

  public List<LoopStats> loops() {
    return loops.get();
  }

  /**
   * Tells {@link #awaitIdle} to read {@link #inFlight()} again: the capability calls it whenever work in flight may
   * have ended (after lowering its count).
   */
  public void changed() {
    idle.changed();
  }

  /**
   * Waits up to {@code grace} for nothing to be in flight, woken by {@link #changed()}; true when nothing is.
   */
  public boolean awaitIdle(Duration grace) throws InterruptedException {
    return idle.await(grace);
  }

  /** Options of a {@link LoopView}; each takes what the capability already holds, read when the server asks. */
  public static final class Builder {
    private final String name;
    private final Timeline timeline;
    private BooleanSupplier ready = () -> true;
    private IntSupplier inFlight = () -> 0;
    private IntSupplier queued = () -> 0;
    private Supplier<ErrorTracker> errors;
    private DoubleSupplier shadowOverhead = () -> Double.NaN;
    private DoubleSupplier shadowOverheadRecent = () -> Double.NaN;
    private Supplier<List<LoopStats>> loops = List::of;

    private Builder(String name, Timeline timeline) {
      if (name == null || !NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("name must be lower-case letters and digits, was '" + name + "'");
      }
      this.name = name;
      this.timeline = Objects.requireNonNull(timeline, "timeline");
      ErrorTracker none = new ErrorTracker();
      this.errors = () -> none;
    }

    /** True once the capability can take work (e.g. its database is generated) and until it is closed. */
    public Builder ready(BooleanSupplier ready) {
      this.ready = Objects.requireNonNull(ready, "ready");
      return this;
    }

    /** Work admitted and not finished: waiting for a reservation or running. */
    public Builder inFlight(IntSupplier inFlight) {
      this.inFlight = Objects.requireNonNull(inFlight, "inFlight");
      return this;
    }

    /** Work waiting for a reservation. */
    public Builder queued(IntSupplier queued) {
      this.queued = Objects.requireNonNull(queued, "queued");
      return this;
    }

    /** Where the capability's predictions are scored (per model). */
    public Builder errors(ErrorTracker errors) {
      Objects.requireNonNull(errors, "errors");
      return errors(() -> errors);
    }

    /** Where the predictions are scored, for a capability whose tracker comes into being later (at start). */
    public Builder errors(Supplier<ErrorTracker> errors) {
      this.errors = Objects.requireNonNull(errors, "errors");
      return this;
    }

    /** Shadow cost relative to the primary work: shadow time / primary time, NaN before any. */
    public Builder shadowOverhead(DoubleSupplier shadowOverhead) {
      this.shadowOverhead = Objects.requireNonNull(shadowOverhead, "shadowOverhead");
      return this;
    }

    /** The same share over about the last minute, beside the one since start (optional). */
    public Builder shadowOverheadRecent(DoubleSupplier shadowOverheadRecent) {
      this.shadowOverheadRecent = Objects.requireNonNull(shadowOverheadRecent, "shadowOverheadRecent");
      return this;
    }

    /** The capability's control loops as they stand. */
    public Builder loops(Supplier<List<LoopStats>> loops) {
      this.loops = Objects.requireNonNull(loops, "loops");
      return this;
    }

    public LoopView build() {
      return new LoopView(this);
    }
  }
}
