package dev.penumbra.shard;

/**
 * A half-open range of integer keys {@code [from, to)}: the rows of a table (e.g. TPC-H order keys) or the data
 * items (instances) of a unit of work.
 *
 * @param from first key, inclusive
 * @param to end key, exclusive; greater than {@code from}
 */
public record KeyRange(long from, long to) {

  public KeyRange {
    if (to <= from) {
      throw new IllegalArgumentException("key range must not be empty: from " + from + ", to " + to);
    }
  }

  public static KeyRange of(long from, long to) {
    return new KeyRange(from, to);
  }

  /** How many keys it holds. */
  public long size() {
    return Math.subtractExact(to, from);
  }

  public boolean contains(long key) {
    return key >= from && key < to;
  }

  /** True when {@code other} lies wholly inside this range. */
  public boolean covers(KeyRange other) {
    return other.from >= from && other.to <= to;
  }

  @Override
  public String toString() {
    return "[" + from + ", " + to + ")";
  }
}
