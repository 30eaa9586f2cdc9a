package dev.penumbra.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.stream.StreamPlanner;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A stream planner's recent observations as saved under {@code server.dataDir}: per partition
 * {@code {"t0": ms, "dt": [ms...], "rate": [...], "cost": [... | null]}} — times as steps from the previous one and
 * values in single precision, about a quarter of the plain records' size (the file is rewritten every second).
 */
final class StreamHistory {
  private StreamHistory() {}

  /** Every partition's history, keyed by partition number. */
  static ObjectNode write(StreamPlanner planner) {
    ObjectNode out = Json.MAPPER.createObjectNode();
    for (int p : planner.partitionIds()) {
      List<StreamPlanner.Observation> obs = planner.history(p);
      ObjectNode n = out.putObject(Integer.toString(p));
      n.put("t0", obs.isEmpty() ? 0 : obs.get(0).timeMillis());
      ArrayNode dt = n.putArray("dt");
      ArrayNode rate = n.putArray("rate");
      ArrayNode cost = n.putArray("cost");
      long prev = obs.isEmpty() ? 0 : obs.get(0).timeMillis();
      for (StreamPlanner.Observation o : obs) {
        dt.add(o.timeMillis() - prev);
        prev = o.timeMillis();
        rate.add((float) o.rate());
        if (Double.isNaN(o.cost())) {
          cost.addNull();
        } else {
          cost.add((float) o.cost());
        }
      }
    }
    return out;
  }

  /**
   * Reads what {@link #write} wrote for a stream of {@code partitions} partitions (others are ignored).
   *
   * @throws IllegalArgumentException naming the field ({@code at} + the path inside) when it is malformed
   */
  static Map<Integer, List<StreamPlanner.Observation>> read(JsonNode saved, int partitions, String at) {
    Map<Integer, List<StreamPlanner.Observation>> out = new TreeMap<>();
    if (!saved.isObject()) {
      throw new IllegalArgumentException(at + " must be an object of partitions, was " + saved.getNodeType());
    }
    for (int p = 0; p < partitions; p++) {
      JsonNode n = saved.get(Integer.toString(p));
      if (n == null) {
        continue;
      }
      String here = at + "." + p;
      JsonNode dt = n.path("dt");
      JsonNode rate = n.path("rate");
      JsonNode cost = n.path("cost");
      if (!n.path("t0").canConvertToLong() || !dt.isArray() || !rate.isArray() || !cost.isArray()
          || dt.size() != rate.size() || dt.size() != cost.size() || dt.size() > StreamPlanner.HISTORY) {
        throw new IllegalArgumentException(here + " must hold t0 and the lists dt, rate and cost of one length (at most "
            + StreamPlanner.HISTORY + ")");
      }
      long t = n.path("t0").asLong();
      List<StreamPlanner.Observation> obs = new ArrayList<>(dt.size());
      for (int i = 0; i < dt.size(); i++) {
        long step = dt.get(i).canConvertToLong() ? dt.get(i).asLong() : -1;
        double r = rate.get(i).isNumber() ? rate.get(i).asDouble() : -1;
        double c = cost.get(i).isNull() ? Double.NaN : cost.get(i).isNumber() ? cost.get(i).asDouble() : -1;
        if (step < 0 || !(r >= 0) || Double.isInfinite(r) || !(Double.isNaN(c) || c >= 0 && Double.isFinite(c))) {
          throw new IllegalArgumentException(here + "[" + i + "]: dt " + dt.get(i) + ", rate " + rate.get(i) + ", cost "
              + cost.get(i) + " (steps and rates are numbers >= 0, a cost a number >= 0 or null)");
        }
        t += step;
        obs.add(new StreamPlanner.Observation(t, r, c));
      }
      out.put(p, obs);
    }
    return out;
  }
}
