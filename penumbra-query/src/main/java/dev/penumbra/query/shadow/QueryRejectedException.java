package dev.penumbra.query.shadow;

/**
 * A query the shadow refused before anything was reserved: it does not parse, names an unknown table or column,
 * mixes types the engine cannot reconcile, or is not a read query. {@link #engineMessage()} is the engine's
 * own text (or the gateway's reason for non-read statements).
 */
public final class QueryRejectedException extends RuntimeException {

  /** Why the query was rejected. */
  public enum Kind {
    /** The SQL does not parse. */
    SYNTAX,
    /** A table, view, column or function name that does not exist. */
    UNKNOWN_OBJECT,
    /** Types that do not fit: no matching function or operator, a failed conversion. */
    TYPE,
    /** Not a single SELECT/WITH statement: the gateway is read-only. */
    NOT_READ_ONLY,
    /** Any other engine error raised while planning or running the shadow. */
    OTHER
  }

  private final Kind kind;
  private final String engineMessage;

  public QueryRejectedException(Kind kind, String engineMessage, Throwable cause) {
    super(kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + " error: " + engineMessage, cause);
    this.kind = kind;
    this.engineMessage = engineMessage;
  }

  public Kind kind() {
    return kind;
  }

  public String engineMessage() {
    return engineMessage;
  }
}
