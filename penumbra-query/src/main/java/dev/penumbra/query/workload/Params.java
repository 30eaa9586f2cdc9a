package dev.penumbra.query.workload;

import dev.penumbra.query.tpch.TpchTable;
import java.time.LocalDate;
import java.util.Locale;
import java.util.Random;

/**
 * The key ranges of the database a workload runs against, and the random parameter draws its templates use.
 * Keys are drawn inside the generated ranges, so point lookups find their row.
 *
 * @param orders number of generated orders (o_orderkey 1..orders)
 * @param customers number of customers
 * @param parts number of parts
 * @param suppliers number of suppliers
 */
public record Params(long orders, int customers, int parts, int suppliers) {
  static final LocalDate FIRST = LocalDate.of(1992, 1, 1);
  static final LocalDate LAST = LocalDate.of(1998, 8, 2);

  public Params {
    if (orders < 1 || customers < 1 || parts < 1 || suppliers < 1) {
      throw new IllegalArgumentException("key ranges must be >= 1, were orders=" + orders + ", customers="
          + customers + ", parts=" + parts + ", suppliers=" + suppliers);
    }
  }

  /** The key ranges of a TPC-H database generated at {@code scale}. */
  public static Params tpch(double scale) {
    return new Params(TpchTable.ORDERS.expectedRows(scale), (int) TpchTable.CUSTOMER.expectedRows(scale),
        (int) TpchTable.PART.expectedRows(scale), (int) TpchTable.SUPPLIER.expectedRows(scale));
  }

  long orderKey(Random r) {
    return 1 + (long) (r.nextDouble() * orders);
  }

  int custKey(Random r) {
    return 1 + r.nextInt(customers);
  }

  int partKey(Random r) {
    return 1 + r.nextInt(parts);
  }

  /** A DATE literal for a random day such that {@code widthDays} more days stay within the data. */
  static LocalDate day(Random r, int widthDays) {
    long span = LAST.toEpochDay() - FIRST.toEpochDay() - widthDays;
    return FIRST.plusDays((long) (r.nextDouble() * Math.max(1, span)));
  }

  static String lit(LocalDate d) {
    return "DATE '" + d + "'";
  }

  /** A width in days drawn log-uniformly between lo and hi, so narrow and wide ranges are equally common. */
  static int width(Random r, int lo, int hi) {
    return (int) Math.round(Math.exp(Math.log(lo) + r.nextDouble() * (Math.log(hi) - Math.log(lo))));
  }

  static String dec(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  static <T> T pick(Random r, T[] values) {
    return values[r.nextInt(values.length)];
  }
}
