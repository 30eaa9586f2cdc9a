package dev.penumbra.eval.report;

import java.util.List;

/** Fixed-width text tables: the first column left-aligned, the others right-aligned, two spaces apart. */
public final class Tables {
  private Tables() {}

  /** The rows (the first is the header) as lines, each ending with the platform's line separator. */
  public static String aligned(List<String[]> rows) {
    int[] widths = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        if (i == 0) {
          line.append(String.format("%-" + widths[i] + "s", row[i]));
        } else {
          line.append("  ").append(String.format("%" + widths[i] + "s", row[i]));
        }
      }
      sb.append(line.toString().stripTrailing()).append(System.lineSeparator());
    }
    return sb.toString();
  }
}
