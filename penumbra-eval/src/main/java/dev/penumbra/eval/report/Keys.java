package dev.penumbra.eval.report;

/**
 * Labels (table headers, CSV columns, metric and target names, which are snake_case) as JSON keys, which are
 * camelCase everywhere the product writes JSON (see docs/architecture.md, "JSON").
 */
public final class Keys {
  private Keys() {}

  /** {@code p99_latency_to_reactive} -> {@code p99LatencyToReactive}; a label without '_' is unchanged. */
  public static String camel(String label) {
    StringBuilder sb = new StringBuilder(label.length());
    boolean up = false;
    for (char c : label.toCharArray()) {
      if (c == '_') {
        up = sb.length() > 0;
      } else {
        sb.append(up ? Character.toUpperCase(c) : c);
        up = false;
      }
    }
    return sb.toString();
  }
}
