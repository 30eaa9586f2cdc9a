package dev.penumbra.query.tpch;

/**
 * New orders added to an existing TPC-H database by {@link TpchInserts#newOrders}.
 *
 * @param firstOrderKey the first new o_orderkey
 * @param lastOrderKey the last new o_orderkey (keys are consecutive)
 * @param lineitems how many lineitem rows were added with them
 */
public record InsertedOrders(long firstOrderKey, long lastOrderKey, long lineitems) {
  public long orders() {
    return lastOrderKey - firstOrderKey + 1;
  }
}
