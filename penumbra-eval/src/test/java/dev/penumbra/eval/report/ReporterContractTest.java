package dev.penumbra.eval.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.penumbra.core.Resources;
import dev.penumbra.eval.replay.Metric;
import dev.penumbra.eval.replay.PolicyRun;
import dev.penumbra.eval.replay.ReplayOptions;
import dev.penumbra.eval.replay.ReplayResult;
import dev.penumbra.eval.trace.Trace;
import dev.penumbra.server.Json;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What every {@link Reporter} must do, run on each format: write output valid for its format for a replay with no
 * run, for one with a single run, and for one whose metrics are undefined (NaN: no use to score, a budget never
 * reached), which must never print as the text "NaN" (JSON null, an empty CSV field, a dash in a table or page).
 */
class ReporterContractTest {

  private static final ReplayOptions OPTIONS = new ReplayOptions(List.of("static"), 1, 0.01, 1);

  private static ReplayResult empty() {
    return new ReplayResult(OPTIONS, List.of(), List.of());
  }

  /** One run on a trace whose name needs quoting in CSV; every metric NaN when {@code undefined}. */
  private static ReplayResult oneRun(boolean undefined) {
    Trace t = new Trace("web, \"eu\"", Resources.Dimension.CPU, "cores", 0, 60_000, new double[] {1, 2, 3, 2});
    Map<Metric, Double> m = new EnumMap<>(Metric.class);
    double v = 0.25;
    for (Metric k : Metric.values()) {
      m.put(k, undefined ? Double.NaN : v);
      v += 1;
    }
    double[][] curve = {{0.01, undefined ? Double.NaN : 0.3}, {0.05, undefined ? Double.NaN : 0.2}};
    PolicyRun run = new PolicyRun(t, "static", new double[] {3, 3, 3, 3}, 1, m, curve, 1_000_000);
    return new ReplayResult(OPTIONS, List.of(t), List.of(run));
  }

  private static String write(String format, ReplayResult r) throws Exception {
    StringWriter out = new StringWriter();
    Reporter.of(format).write(r, out);
    return out.toString();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"table", "csv", "json", "html"})
  void writesValidOutputForNoRun(String format) throws Exception {
    String out = write(format, empty());
    assertValid(format, out, 0);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"table", "csv", "json", "html"})
  void writesValidOutputForOneRun(String format) throws Exception {
    String out = write(format, oneRun(false));
    assertValid(format, out, 1);
    assertThat(out).contains("static");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"table", "csv", "json", "html"})
  void undefinedMetricsNeverPrintAsNaN(String format) throws Exception {
    String out = write(format, oneRun(true));
    assertValid(format, out, 1);
    assertThat(out).doesNotContain("NaN").doesNotContain("Infinity");
  }

  private static void assertValid(String format, String out, int runs) throws Exception {
    assertThat(out).as(format).isNotBlank();
    switch (format) {
      case "json" -> {
        JsonNode doc = Json.MAPPER.readTree(out);
        assertThat(doc.isObject()).isTrue();
        assertThat(out).doesNotContain("NaN");
      }
      case "csv" -> {
        List<String> lines = out.lines().toList();
        assertThat(lines).hasSize(1 + runs);
        int columns = fields(lines.get(0)).size();
        for (String line : lines) {
          assertThat(fields(line)).as(line).hasSize(columns);
        }
        if (runs > 0) {
          assertThat(fields(lines.get(1)).get(0)).isEqualTo("web, \"eu\"");
        }
      }
      case "html" -> {
        assertThat(out.strip().toLowerCase(java.util.Locale.ROOT)).startsWith("<!doctype html").endsWith("</html>");
        assertThat(out).doesNotContain("NaN");
      }
      case "table" -> assertThat(out).doesNotContain("NaN");
      default -> throw new IllegalArgumentException(format);
    }
  }

  /** The fields of one CSV line (RFC 4180 quoting). */
  private static List<String> fields(String line) {
    List<String> out = new ArrayList<>();
    StringBuilder f = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
          f.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          f.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        out.add(f.toString());
        f.setLength(0);
      } else {
        f.append(c);
      }
    }
    out.add(f.toString());
    return out;
  }
}
