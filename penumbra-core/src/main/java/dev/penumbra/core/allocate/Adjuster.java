package dev.penumbra.core.allocate;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Resources;
import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.allocate.AdjustmentReport.Extended;
import dev.penumbra.core.allocate.AdjustmentReport.Overrun;
import dev.penumbra.core.allocate.AdjustmentReport.Reclaimed;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.InsufficientCapacityException;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.LedgerSnapshot;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.ledger.Reservation.State;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The resource adjustment module: compares what ACTIVE reservations use with what they hold, reclaims headroom
 * that stays unused and extends reservations that overrun. The owner calls {@link #adjust()} periodically.
 *
 * <p>Per ACTIVE reservation with a measurement {@code use} (WARM ones are not yet in use and are left alone),
 * per dimension, with {@code want = ceil(use x (1 + margin))}:
 *
 * <ul>
 *   <li>Overrun ({@code use > reserved}): grow to {@code want}, or as far as the node's free capacity allows.
 *       What is still above the reservation afterwards is reported as an {@link Overrun}.
 *   <li>Headroom ({@code want < reserved}): the first pass that sees it starts a grace timer and every pass
 *       tracks the peak use since. A pass at or after {@code start + grace} shrinks the dimension to
 *       {@code ceil(peak x (1 + margin))} (never below the use) and restarts the timer.
 *   <li>Otherwise, or when the measurement is absent, the dimension's timer is cleared.
 * </ul>
 *
 * <p>With a {@link Builder#floor floor} (the latest forecast of the work, as a
 * {@link dev.penumbra.core.loop.ControlLoop} sets it), {@code want} is at least the floor: a reservation below
 * it grows to it as room allows, and headroom is reclaimed only down to it.
 *
 * <p>When an {@link ErrorTracker} is given, every comparison is scored there before adjusting: per dimension
 * where reserved or use is non-zero, under {@link Allocator#feedbackName}(modelName(reservation), its priority,
 * dimension) so the allocator reads it back, point and upper
 * = reserved, actual = use. {@code adjust()} is synchronized; the ledger may change meanwhile (a resize that no
 * longer fits falls back to shrinking only, a reservation that ended is skipped).
 */
public final class Adjuster {

  private final Ledger ledger;
  private final Clock clock;
  private final UsageSource usage;
  private final Duration grace;
  private final double margin;
  private final ErrorTracker tracker;
  private final Function<Reservation, String> modelName;
  private final Function<Reservation, Optional<Resources>> floor;
  private final Map<Long, Track> tracks = new HashMap<>();

  private Adjuster(Builder b) {
    this.ledger = b.ledger;
    this.clock = b.clock != null ? b.clock : b.ledger.clock();
    this.usage = b.usage;
    this.grace = b.grace;
    this.margin = b.margin;
    this.tracker = b.tracker;
    this.modelName = b.modelName;
    this.floor = b.floor;
  }

  public static Builder builder(Ledger ledger, UsageSource usage) {
    return new Builder(ledger, usage);
  }

  /** Options; defaults: grace 5 minutes, margin 0.1, no error tracker, model name = the owner. */
  public static final class Builder {
    private final Ledger ledger;
    private final UsageSource usage;
    private Clock clock;
    private Duration grace = Duration.ofMinutes(5);
    private double margin = 0.1;
    private ErrorTracker tracker;
    private Function<Reservation, String> modelName = Reservation::owner;
    private Function<Reservation, Optional<Resources>> floor = r -> Optional.empty();

    private Builder(Ledger ledger, UsageSource usage) {
      Checks.notNull("ledger", ledger);
      Checks.notNull("usage source", usage);
      this.ledger = ledger;
      this.usage = usage;
    }

    /** How long headroom must stay unused before it is reclaimed (>= 0). */
    public Builder grace(Duration grace) {
      Checks.notNegative("grace", grace);
      this.grace = grace;
      return this;
    }

    /** The share kept above use when shrinking or extending (finite, >= 0). */
    public Builder margin(double margin) {
      Checks.atLeast("margin", margin, 0.0);
      this.margin = margin;
      return this;
    }

    /** Where to score each comparison, with the model named after the reservation's owner. */
    public Builder errorTracker(ErrorTracker tracker) {
      this.tracker = tracker;
      return this;
    }

    /** Names the model a reservation's comparison is scored under (before "/dimension"). */
    public Builder modelName(Function<Reservation, String> modelName) {
      Checks.notNull("modelName", modelName);
      this.modelName = modelName;
      return this;
    }

    /** The clock for grace periods; the ledger's by default. */
    public Builder clock(Clock clock) {
      Checks.notNull("clock", clock);
      this.clock = clock;
      return this;
    }

    /**
     * The amount a reservation is held at least, per reservation (empty: none): the latest forecast of its
     * work, sized at its priority's quantile. A reservation below its floor grows to it as room allows; headroom
     * is reclaimed only down to it. No margin is added to a floor (it is already an upper quantile).
     */
    public Builder floor(Function<Reservation, Optional<Resources>> floor) {
      Checks.notNull("floor", floor);
      this.floor = floor;
      return this;
    }

    public Adjuster build() {
      return new Adjuster(this);
    }
  }

  /** Per reservation and dimension: since when headroom was seen (null: none) and the peak use since. */
  private static final class Track {
    final Instant[] since = new Instant[4];
    final long[] peak = new long[4];
  }

  /** One pass over the live reservations. */
  public synchronized AdjustmentReport adjust() {
    Instant now = clock.instant();
    LedgerSnapshot snap = ledger.snapshot();
    Map<String, long[]> free = new HashMap<>();
    for (NodeView n : snap.nodes()) {
      free.put(n.id(), toArray(n.free()));
    }
    List<Reclaimed> reclaimed = new ArrayList<>();
    List<Extended> extended = new ArrayList<>();
    List<Overrun> overruns = new ArrayList<>();
    long[] totReclaimed = new long[4];
    long[] totExtended = new long[4];
    long[] totUncovered = new long[4];
    Set<Long> seen = new HashSet<>();
    int examined = 0;
    Dimension[] dims = Dimension.values();

    for (Reservation r : snap.reservations()) {
      if (r.state() != State.ACTIVE) {
        continue;
      }
      seen.add(r.id());
      Optional<Resources> measured = usage.measure(r);
      if (measured == null || measured.isEmpty()) {
        tracks.remove(r.id());
        continue;
      }
      examined++;
      Resources use = measured.get();
      score(r, use);
      long[] have = toArray(r.amount());
      long[] used = toArray(use);
      Optional<Resources> fl = floor.apply(r);
      long[] least = fl == null || fl.isEmpty() ? new long[4] : toArray(fl.get());
      long[] room = free.getOrDefault(r.node(), new long[4]);
      long[] target = have.clone();
      long[] shrinkOnly = have.clone();
      Track track = tracks.computeIfAbsent(r.id(), id -> new Track());
      for (int d = 0; d < 4; d++) {
        long want = Math.max(withMargin(used[d], dims[d]), least[d]);
        if (used[d] > have[d] || least[d] > have[d]) {
          target[d] = Math.min(want, have[d] + room[d]);
          track.since[d] = null;
        } else if (want < have[d]) {
          if (track.since[d] == null) {
            track.since[d] = now;
            track.peak[d] = used[d];
          } else {
            track.peak[d] = Math.max(track.peak[d], used[d]);
          }
          if (Duration.between(track.since[d], now).compareTo(grace) >= 0) {
            long keep = Math.max(Math.max(withMargin(track.peak[d], dims[d]), used[d]), least[d]);
            target[d] = Math.min(keep, have[d]);
            shrinkOnly[d] = target[d];
            track.since[d] = null;
          }
        } else {
          track.since[d] = null;
        }
      }
      long[] result = have;
      if (!java.util.Arrays.equals(target, have)) {
        result = tryResize(r, target);
        if (result == null && !java.util.Arrays.equals(shrinkOnly, have)) {
          result = tryResize(r, shrinkOnly);
        }
        if (result == null) {
          result = have;
        }
      }
      if (result == GONE) {
        tracks.remove(r.id());
        continue;
      }
      long[] give = new long[4];
      long[] grow = new long[4];
      long[] uncovered = new long[4];
      for (int d = 0; d < 4; d++) {
        give[d] = Math.max(0, have[d] - result[d]);
        grow[d] = Math.max(0, result[d] - have[d]);
        uncovered[d] = Math.max(0, used[d] - result[d]);
        room[d] += give[d] - grow[d];
        totReclaimed[d] += give[d];
        totExtended[d] += grow[d];
        totUncovered[d] += uncovered[d];
      }
      Resources after = toResources(result);
      if (!isZero(give)) {
        reclaimed.add(new Reclaimed(r.id(), r.owner(), r.node(), r.amount(), after, toResources(give)));
      }
      if (!isZero(grow)) {
        extended.add(new Extended(r.id(), r.owner(), r.node(), r.amount(), after, toResources(grow)));
      }
      if (!isZero(uncovered)) {
        overruns.add(new Overrun(r.id(), r.owner(), r.node(), use, after, toResources(uncovered)));
      }
    }
    tracks.keySet().retainAll(seen);
    return new AdjustmentReport(now, examined, reclaimed, extended, overruns,
        toResources(totReclaimed), toResources(totExtended), toResources(totUncovered));
  }

  private static final long[] GONE = new long[0];

  /** The new amount, null when it did not fit, GONE when the reservation ended meanwhile. */
  private long[] tryResize(Reservation r, long[] target) {
    try {
      return toArray(ledger.resize(r.id(), toResources(target)).amount());
    } catch (InsufficientCapacityException raced) {
      return null;
    } catch (IllegalStateException | IllegalArgumentException ended) {
      return GONE;
    }
  }

  private long withMargin(long v, Dimension d) {
    double x = v * (1 + margin);
    // Round up, but not past a whole number that floating point missed by a hair (100 x 1.1 = 110.00000000000001).
    double nearest = Math.rint(x);
    double r = Math.abs(x - nearest) <= 1e-9 * Math.max(1, x) ? nearest : Math.ceil(x);
    if (r >= Long.MAX_VALUE) {
      throw new ArithmeticException(d.label() + " use " + v + " overflows with margin " + margin);
    }
    return (long) r;
  }

  private void score(Reservation r, Resources use) {
    if (tracker == null) {
      return;
    }
    String model = modelName.apply(r);
    for (Dimension d : Dimension.values()) {
      long a = r.amount().get(d);
      long u = use.get(d);
      if (a > 0 || u > 0) {
        tracker.record(Allocator.feedbackName(model, r.priority(), d), a, a, u);
      }
    }
  }

  private static long[] toArray(Resources r) {
    return new long[] {r.cpuMillis(), r.memoryBytes(), r.ioBytesPerSec(), r.networkBytesPerSec()};
  }

  private static Resources toResources(long[] a) {
    return new Resources(a[0], a[1], a[2], a[3]);
  }

  private static boolean isZero(long[] a) {
    return a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0;
  }
}
