package dev.penumbra.ml;

import dev.penumbra.core.Resources;
import dev.penumbra.core.predict.Features;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A seeded nonlinear workload: CPU grows with the square of "size" and triples for kind 2; memory follows a
 * sine of "skew"; both with log-normal noise (sigma 0.2), so amounts span several orders of magnitude.
 */
final class Synthetic {

  static final double NOISE = 0.2;

  record Row(Features features, Resources actual) {}

  private Synthetic() {}

  static List<Row> rows(long seed, int n) {
    Random rnd = new Random(seed);
    List<Row> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      double size = rnd.nextDouble() * 10;
      double skew = rnd.nextDouble();
      int kind = rnd.nextInt(3);
      double cpu = 50 * (1 + size * size) * (kind == 2 ? 3 : 1) * Math.exp(NOISE * rnd.nextGaussian());
      double mem = 1e6 * Math.exp(3 * Math.sin(3 * skew)) * Math.exp(NOISE * rnd.nextGaussian());
      Features f = Features.builder().put("size", size).put("skew", skew).put("kind", kind).build();
      rows.add(new Row(f, Resources.of(Math.round(cpu), Math.round(mem))));
    }
    return rows;
  }
}
