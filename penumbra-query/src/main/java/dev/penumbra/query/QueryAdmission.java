package dev.penumbra.query;

import dev.penumbra.core.Priority;
import dev.penumbra.core.allocate.Ticket;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The order in which waiting queries get their reservation (the slack of {@code Allocator.Builder#virtualDeadlines}).
 * Strict priority lets a batch query wait behind every critical and standard query that arrives while it waits, so
 * under load its wait has no bound and the level's last query (which sets the throughput) is a batch one. Here a
 * query's virtual deadline is its arrival plus a slack: none for a critical query, and for the others a share of
 * what FIFO would make it wait, the predicted primary time of the queries already in the gateway (waiting or running)
 * over the cores. A later query overtakes it only while the later one's virtual deadline comes first; once a query
 * has waited its slack, nothing that arrives after passes it. So a query waits at most its slack plus the work of
 * the queries whose virtual deadline is earlier than its own. The factors (0.5 for standard and batch) trade what a
 * critical query gains against what the others pay: with the same primary times and slots the mean wait is conserved
 * (Kleinrock), so no order lowers the critical waits without raising the others'. Thread-safe.
 */
final class QueryAdmission {

  /** How the slack is scaled. */
  enum Design {
    /** Strictly by priority, then arrival: the allocator's default order. */
    PRIORITY,
    /** Factor x the query's own predicted primary time. */
    SERVICE,
    /** Factor x the predicted primary time of the queries already in the gateway, over the cores: FIFO's wait. */
    QUEUE;

    static Design parse(String text) {
      try {
        return valueOf(text.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("penumbra.query.admission must be one of priority, service, queue, was '"
            + text + "'", e);
      }
    }
  }

  /** The design a gateway uses unless the system property {@code penumbra.query.admission} says another. */
  static final Design DESIGN = Design.parse(System.getProperty("penumbra.query.admission", "queue"));
  /** Slack factors of standard and batch queries: {@code -Dpenumbra.query.slack=STANDARD,BATCH}. */
  static final double[] FACTORS = factors(System.getProperty("penumbra.query.slack", "0.5,0.5"));

  private final Design design;
  // While on, the slack emulates strict priority (see strictPriority); for benchmarks that compare the two.
  private volatile boolean strict;
  private final double standard;
  private final double batch;
  private final int cores;
  // Predicted primary time of every query between its request for a reservation and its end, by owner.
  private final ConcurrentHashMap<String, Long> inGateway = new ConcurrentHashMap<>();

  QueryAdmission(Design design, double standard, double batch, int cores) {
    if (!(standard >= 0) || !(batch >= 0)) {
      throw new IllegalArgumentException("slack factors must be >= 0, were standard " + standard + ", batch " + batch);
    }
    this.design = design;
    this.standard = standard;
    this.batch = batch;
    this.cores = Math.max(1, cores);
  }

  static QueryAdmission fromProperties(int cores) {
    return new QueryAdmission(DESIGN, FACTORS[0], FACTORS[1], cores);
  }

  Design design() {
    return design;
  }

  /** The allocator's slack, or null for strict priority. */
  Function<Ticket, Duration> slack() {
    return design == Design.PRIORITY ? null : this::slackOf;
  }

  /**
   * While on, waiting queries are admitted strictly by priority, then arrival (each priority's slack a day per rank
   * below critical), the order the allocator keeps without virtual deadlines. For benchmarks that compare the two
   * orders on one trained gateway; has no effect under {@link Design#PRIORITY}.
   */
  void strictPriority(boolean on) {
    this.strict = on;
  }

  /** A query is about to ask for its reservation: its own predicted primary time, in nanoseconds. */
  void arrive(String owner, long predictedWallNanos) {
    inGateway.put(owner, Math.max(0, predictedWallNanos));
  }

  /** The query ended (or gave up): it no longer counts in the work of the queries after it. */
  void leave(String owner) {
    inGateway.remove(owner);
  }

  Duration slackOf(Ticket t) {
    if (strict) {
      return Duration.ofDays(t.sla().priority().ordinal());
    }
    double factor = switch (t.sla().priority()) {
      case CRITICAL -> 0;
      case STANDARD -> standard;
      case BATCH -> batch;
    };
    if (factor == 0) {
      return Duration.ZERO;
    }
    long own = inGateway.getOrDefault(t.owner(), 0L);
    double base = switch (design) {
      case SERVICE -> own;
      case QUEUE -> ahead(t.owner()) / (double) cores;
      case PRIORITY -> 0;
    };
    return Duration.ofNanos((long) Math.min(Long.MAX_VALUE / 2.0, factor * base));
  }

  private long ahead(String owner) {
    long sum = 0;
    for (var e : inGateway.entrySet()) {
      if (!e.getKey().equals(owner)) {
        sum += e.getValue();
      }
    }
    return sum;
  }

  static double[] factors(String text) {
    String[] parts = text.split(",");
    if (parts.length != 2) {
      throw new IllegalArgumentException("penumbra.query.slack must be STANDARD,BATCH (two numbers), was '" + text
          + "'");
    }
    double[] out = new double[2];
    for (int i = 0; i < 2; i++) {
      try {
        out[i] = Double.parseDouble(parts[i].strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("penumbra.query.slack must be STANDARD,BATCH (two numbers), was '" + text
            + "'", e);
      }
      if (!(out[i] >= 0) || Double.isInfinite(out[i])) {
        throw new IllegalArgumentException("penumbra.query.slack must be two numbers >= 0, was '" + text + "'");
      }
    }
    return out;
  }
}
