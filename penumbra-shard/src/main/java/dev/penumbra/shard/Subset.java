package dev.penumbra.shard;

import dev.penumbra.core.Checks;
/**
 * The data a shard processes: the keys of a range, optionally only those in one hash bucket
 * ({@code floorMod(key, buckets) == bucket}; the key's residue is its hash, so partitions are easy to check and
 * reproduce in SQL).
 *
 * @param range the keys
 * @param buckets 1 for the whole range, else the number of hash buckets
 * @param bucket which bucket, in {@code [0, buckets)}
 */
public record Subset(KeyRange range, int buckets, int bucket) {

  public Subset {
    if (range == null) {
      throw new IllegalArgumentException("subset range is missing");
    }
    Checks.atLeast("subset buckets", buckets, 1);
    if (bucket < 0 || bucket >= buckets) {
      throw new IllegalArgumentException("subset bucket must be in [0, " + buckets + "), was " + bucket);
    }
  }

  /** The whole range. */
  public static Subset of(KeyRange range) {
    return new Subset(range, 1, 0);
  }

  public boolean contains(long key) {
    return range.contains(key) && (buckets == 1 || Math.floorMod(key, buckets) == bucket);
  }

  /** How many keys it holds (exact). */
  public long size() {
    if (buckets == 1) {
      return range.size();
    }
    // Keys k in [from, to) with k mod buckets == bucket.
    long first = range.from() + Math.floorMod(bucket - range.from(), (long) buckets);
    return first >= range.to() ? 0 : (range.to() - 1 - first) / buckets + 1;
  }

  /** The SQL condition selecting it on an integer column, e.g. {@code o >= 1 AND o < 100 AND o % 4 = 1}. */
  public String sqlPredicate(String column) {
    if (column == null || !column.matches("[A-Za-z_][A-Za-z0-9_.]*")) {
      throw new IllegalArgumentException("key column must be a plain SQL identifier, was '" + column + "'");
    }
    String p = column + " >= " + range.from() + " AND " + column + " < " + range.to();
    if (buckets > 1) {
      // Keys are non-negative in every table this is used on; ((k % n) + n) % n keeps it right for negatives too.
      p += " AND ((" + column + " % " + buckets + ") + " + buckets + ") % " + buckets + " = " + bucket;
    }
    return p;
  }

  @Override
  public String toString() {
    return buckets == 1 ? range.toString() : range + " mod " + buckets + " = " + bucket;
  }
}
