package dev.penumbra.query.tpch;

import java.time.LocalDate;

/**
 * Generates TPC-H rows. Every entity (a supplier, a part with its four partsupp rows, an order with its
 * lineitems) draws from its own random stream seeded by (seed, table, key), so the output is a pure function of
 * (scale, seed) and any key range can be produced independently.
 */
final class TpchGenerator {
  static final int START_DATE = (int) LocalDate.of(1992, 1, 1).toEpochDay();
  static final int END_DATE = (int) LocalDate.of(1998, 12, 31).toEpochDay();
  /** Lines shipped after this date are still open ('O'), received before it may be returned. */
  static final int CURRENT_DATE = (int) LocalDate.of(1995, 6, 17).toEpochDay();
  static final int MAX_LINES = 7;

  private static final int S_SUPPLIER = 1;
  private static final int S_CUSTOMER = 2;
  private static final int S_PART = 3;
  private static final int S_ORDER = 4;
  private static final int S_NATION = 5;

  static final String[] REGIONS = {"AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"};
  static final String[] NATIONS = {
      "ALGERIA", "ARGENTINA", "BRAZIL", "CANADA", "EGYPT", "ETHIOPIA", "FRANCE", "GERMANY", "INDIA", "INDONESIA",
      "IRAN", "IRAQ", "JAPAN", "JORDAN", "KENYA", "MOROCCO", "MOZAMBIQUE", "PERU", "CHINA", "ROMANIA",
      "SAUDI ARABIA", "VIETNAM", "RUSSIA", "UNITED KINGDOM", "UNITED STATES"};
  static final int[] NATION_REGION = {0, 1, 1, 1, 4, 0, 3, 3, 2, 2, 4, 4, 2, 4, 0, 0, 0, 1, 2, 3, 4, 2, 3, 3, 1};
  static final String[] SEGMENTS = {"AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD"};
  static final String[] PRIORITIES = {"1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"};
  static final String[] INSTRUCTIONS = {"DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"};
  static final String[] SHIP_MODES = {"REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB"};
  static final String[] TYPE_SIZE = {"STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO"};
  static final String[] TYPE_FINISH = {"ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED"};
  static final String[] TYPE_METAL = {"TIN", "NICKEL", "BRASS", "STEEL", "COPPER"};
  static final String[] CONTAINER_SIZE = {"SM", "LG", "MED", "JUMBO", "WRAP"};
  static final String[] CONTAINER_KIND = {"CASE", "BOX", "BAG", "JAR", "PKG", "PACK", "CAN", "DRUM"};
  static final String[] COLORS = {
      "almond", "antique", "aquamarine", "azure", "beige", "bisque", "black", "blanched", "blue", "blush",
      "brown", "burlywood", "burnished", "chartreuse", "chiffon", "chocolate", "coral", "cornflower", "cornsilk",
      "cream", "cyan", "dark", "deep", "dim", "dodger", "drab", "firebrick", "floral", "forest", "frosted",
      "gainsboro", "ghost", "goldenrod", "green", "grey", "honeydew", "hot", "indian", "ivory", "khaki", "lace",
      "lavender", "lawn", "lemon", "light", "lime", "linen", "magenta", "maroon", "medium", "metallic",
      "midnight", "mint", "misty", "moccasin", "navajo", "navy", "olive", "orange", "orchid", "pale", "papaya",
      "peach", "peru", "pink", "plum", "powder", "puff", "purple", "red", "rose", "rosy", "royal", "saddle",
      "salmon", "sandy", "seashell", "sienna", "sky", "slate", "smoke", "snow", "spring", "steel", "tan",
      "thistle", "tomato", "turquoise", "violet", "wheat", "white", "yellow"};

  final double scale;
  final long seed;
  final TpchCounts counts;
  private final TextPool text;
  private final Rng rng = new Rng();

  TpchGenerator(double scale, long seed) {
    this.scale = scale;
    this.seed = seed;
    this.counts = TpchCounts.of(scale);
    this.text = new TextPool(seed);
  }

  void generate(TpchTable table, RowSink sink) {
    switch (table) {
      case REGION -> regions(sink);
      case NATION -> nations(sink);
      case SUPPLIER -> suppliers(sink);
      case CUSTOMER -> customers(sink);
      case PART -> parts(sink, null);
      case PARTSUPP -> parts(null, sink);
      case ORDERS -> orders(1, counts.orders(), sink, null);
      case LINEITEM -> orders(1, counts.orders(), null, sink);
    }
  }

  void regions(RowSink out) {
    for (int r = 0; r < REGIONS.length; r++) {
      rng.reseed(seed, S_NATION, 100 + r);
      out.int4(r);
      out.text(REGIONS[r]);
      out.text(text.comment(rng, 31, 115));
      out.endRow();
    }
  }

  void nations(RowSink out) {
    for (int n = 0; n < NATIONS.length; n++) {
      rng.reseed(seed, S_NATION, n);
      out.int4(n);
      out.text(NATIONS[n]);
      out.int4(NATION_REGION[n]);
      out.text(text.comment(rng, 31, 114));
      out.endRow();
    }
  }

  void suppliers(RowSink out) {
    for (int k = 1; k <= counts.suppliers(); k++) {
      rng.reseed(seed, S_SUPPLIER, k);
      int nation = rng.between(0, 24);
      out.int4(k);
      out.text(numbered("Supplier#", k));
      out.text(address());
      out.int4(nation);
      out.text(phone(nation));
      out.cents(rng.between(-99_999, 999_999));
      out.text(text.comment(rng, 25, 100));
      out.endRow();
    }
  }

  void customers(RowSink out) {
    for (int k = 1; k <= counts.customers(); k++) {
      rng.reseed(seed, S_CUSTOMER, k);
      int nation = rng.between(0, 24);
      out.int4(k);
      out.text(numbered("Customer#", k));
      out.text(address());
      out.int4(nation);
      out.text(phone(nation));
      out.cents(rng.between(-99_999, 999_999));
      out.text(rng.pick(SEGMENTS));
      out.text(text.comment(rng, 29, 116));
      out.endRow();
    }
  }

  /** Parts and their partsupp rows come from the same stream; either sink may be null. */
  void parts(RowSink partOut, RowSink psOut) {
    StringBuilder name = new StringBuilder(64);
    for (int k = 1; k <= counts.parts(); k++) {
      rng.reseed(seed, S_PART, k);
      name.setLength(0);
      for (int i = 0; i < 5; i++) {
        if (i > 0) {
          name.append(' ');
        }
        name.append(rng.pick(COLORS));
      }
      int mfgr = rng.between(1, 5);
      int brand = rng.between(1, 5);
      String type = rng.pick(TYPE_SIZE) + " " + rng.pick(TYPE_FINISH) + " " + rng.pick(TYPE_METAL);
      int size = rng.between(1, 50);
      String container = rng.pick(CONTAINER_SIZE) + " " + rng.pick(CONTAINER_KIND);
      String comment = text.comment(rng, 5, 22);
      if (partOut != null) {
        partOut.int4(k);
        partOut.text(name.toString());
        partOut.text("Manufacturer#" + mfgr);
        partOut.text("Brand#" + mfgr + brand);
        partOut.text(type);
        partOut.int4(size);
        partOut.text(container);
        partOut.cents(retailCents(k));
        partOut.text(comment);
        partOut.endRow();
      }
      for (int i = 0; i < TpchCounts.SUPPLIERS_PER_PART; i++) {
        int avail = rng.between(1, 9999);
        int cost = rng.between(100, 100_000);
        String psComment = text.comment(rng, 49, 198);
        if (psOut != null) {
          psOut.int4(k);
          psOut.int4(supplierOf(k, i));
          psOut.int4(avail);
          psOut.cents(cost);
          psOut.text(psComment);
          psOut.endRow();
        }
      }
    }
  }

  /** The i-th (0..3) supplier of a part: four distinct suppliers spread over the whole supplier range. */
  int supplierOf(int part, int i) {
    int s = counts.suppliers();
    return (int) (((part - 1L) + (long) i * (s / 4)) % s) + 1;
  }

  static long retailCents(int part) {
    return 90_000 + (part / 10) % 20_001 + 100L * (part % 1000);
  }

  /** Orders (and their lineitems) with keys from..to inclusive; either sink may be null. */
  void orders(long from, long to, RowSink orderOut, RowSink lineOut) {
    Order o = new Order();
    for (long k = from; k <= to; k++) {
      order(k, o);
      if (orderOut != null) {
        orderOut.int8(k);
        orderOut.int4(o.custkey);
        orderOut.text(o.status);
        orderOut.cents(o.totalCents);
        orderOut.date(o.orderDate);
        orderOut.text(o.priority);
        orderOut.text(o.clerk);
        orderOut.int4(0);
        orderOut.text(o.comment);
        orderOut.endRow();
      }
      if (lineOut != null) {
        for (int i = 0; i < o.lines; i++) {
          lineOut.int8(k);
          lineOut.int4(o.partkey[i]);
          lineOut.int4(o.suppkey[i]);
          lineOut.int4(i + 1);
          lineOut.cents(o.quantity[i] * 100L);
          lineOut.cents(o.extendedCents[i]);
          lineOut.cents(o.discount[i]);
          lineOut.cents(o.tax[i]);
          lineOut.text(o.returnFlag[i]);
          lineOut.text(o.shipDate[i] > CURRENT_DATE ? "O" : "F");
          lineOut.date(o.shipDate[i]);
          lineOut.date(o.commitDate[i]);
          lineOut.date(o.receiptDate[i]);
          lineOut.text(o.instruct[i]);
          lineOut.text(o.mode[i]);
          lineOut.text(o.lineComment[i]);
          lineOut.endRow();
        }
      }
    }
  }

  /** One order with its lines, reused across keys to keep generation allocation-light. */
  static final class Order {
    int custkey;
    String status;
    long totalCents;
    int orderDate;
    String priority;
    String clerk;
    String comment;
    int lines;
    final int[] partkey = new int[MAX_LINES];
    final int[] suppkey = new int[MAX_LINES];
    final int[] quantity = new int[MAX_LINES];
    final long[] extendedCents = new long[MAX_LINES];
    final int[] discount = new int[MAX_LINES];
    final int[] tax = new int[MAX_LINES];
    final String[] returnFlag = new String[MAX_LINES];
    final int[] shipDate = new int[MAX_LINES];
    final int[] commitDate = new int[MAX_LINES];
    final int[] receiptDate = new int[MAX_LINES];
    final String[] instruct = new String[MAX_LINES];
    final String[] mode = new String[MAX_LINES];
    final String[] lineComment = new String[MAX_LINES];
  }

  void order(long key, Order o) {
    rng.reseed(seed, S_ORDER, key);
    int customers = counts.customers();
    // A third of the customers (keys divisible by 3) never order, as in the spec.
    int c = rng.between(1, customers);
    if (c % 3 == 0) {
      c = c < customers ? c + 1 : c - 1;
    }
    o.custkey = c;
    o.orderDate = rng.between(START_DATE, END_DATE - 151);
    o.priority = rng.pick(PRIORITIES);
    o.clerk = numbered("Clerk#", rng.between(1, counts.clerks()));
    o.comment = text.comment(rng, 19, 78);
    o.lines = rng.between(1, MAX_LINES);
    long total = 0;
    int open = 0;
    for (int i = 0; i < o.lines; i++) {
      int part = rng.between(1, counts.parts());
      o.partkey[i] = part;
      o.suppkey[i] = supplierOf(part, rng.between(0, 3));
      o.quantity[i] = rng.between(1, 50);
      o.extendedCents[i] = o.quantity[i] * retailCents(part);
      o.discount[i] = rng.between(0, 10);
      o.tax[i] = rng.between(0, 8);
      o.shipDate[i] = o.orderDate + rng.between(1, 121);
      o.commitDate[i] = o.orderDate + rng.between(30, 90);
      o.receiptDate[i] = o.shipDate[i] + rng.between(1, 30);
      boolean returnable = o.receiptDate[i] <= CURRENT_DATE;
      int flag = rng.between(0, 1);
      o.returnFlag[i] = returnable ? (flag == 0 ? "R" : "A") : "N";
      o.instruct[i] = rng.pick(INSTRUCTIONS);
      o.mode[i] = rng.pick(SHIP_MODES);
      o.lineComment[i] = text.comment(rng, 10, 43);
      total += Math.round(o.extendedCents[i] * (100.0 + o.tax[i]) * (100.0 - o.discount[i]) / 10_000.0);
      if (o.shipDate[i] > CURRENT_DATE) {
        open++;
      }
    }
    o.totalCents = total;
    o.status = open == o.lines ? "O" : open == 0 ? "F" : "P";
  }

  private String address() {
    int len = rng.between(10, 40);
    char[] a = new char[len];
    for (int i = 0; i < len; i++) {
      a[i] = TextPool.ALNUM.charAt(rng.between(0, TextPool.ALNUM.length() - 1));
    }
    return new String(a);
  }

  private String phone(int nation) {
    StringBuilder b = new StringBuilder(15);
    b.append(nation + 10).append('-').append(rng.between(100, 999)).append('-')
        .append(rng.between(100, 999)).append('-').append(rng.between(1000, 9999));
    return b.toString();
  }

  static String numbered(String prefix, long k) {
    String digits = Long.toString(k);
    StringBuilder b = new StringBuilder(prefix.length() + 9).append(prefix);
    for (int i = digits.length(); i < 9; i++) {
      b.append('0');
    }
    return b.append(digits).toString();
  }
}
