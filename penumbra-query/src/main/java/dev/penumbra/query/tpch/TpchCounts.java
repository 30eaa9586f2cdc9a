package dev.penumbra.query.tpch;

/** Base-table cardinalities at a scale factor, as in the TPC-H spec (SF 1: 10k suppliers, 200k parts, ...). */
record TpchCounts(int suppliers, int parts, int customers, long orders, int clerks) {
  static final int SUPPLIERS_PER_PART = 4;

  static TpchCounts of(double scale) {
    checkScale(scale);
    // At least 4 suppliers so every part has 4 distinct ones.
    return new TpchCounts(
        (int) Math.max(4, Math.round(10_000 * scale)),
        (int) Math.max(1, Math.round(200_000 * scale)),
        (int) Math.max(3, Math.round(150_000 * scale)),
        Math.max(1, Math.round(1_500_000 * scale)),
        (int) Math.max(1, Math.round(1_000 * scale)));
  }

  static void checkScale(double scale) {
    if (!(scale > 0) || scale > 10_000) {
      throw new IllegalArgumentException("scale must be > 0 and <= 10000, was " + scale);
    }
  }
}
