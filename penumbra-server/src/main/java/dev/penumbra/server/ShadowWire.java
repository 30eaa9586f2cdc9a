package dev.penumbra.server;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * What the control plane and its shadow workers send each other over HTTP. A shadow result travels between two
 * Penumbra processes, not to a user: its doubles must arrive exactly as they left, NaN included, so the wire
 * mapper writes NaN as the token {@code "NaN"} where {@link Json#MAPPER} (the product's output) writes null.
 */
final class ShadowWire {
  static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .build();

  /** A worker's registration, sent again as its heartbeat (numbers boxed: a missing one is named, not zeroed). */
  record Hello(String id, String url, Double scale, Long seed, Integer slots) {}

  /** What the control plane answers a hello: how often to say it again. */
  record Welcome(String id, long heartbeatMillis, long expiryMillis) {}

  /** One shadow for a worker: the query and how long its sample run may take. */
  record Job(String sql, long capNanos) {}

  /** A worker's refusal of a query (its sandbox or engine rejected it), with the kind the gateway reports. */
  record Refusal(String kind, String message) {}

  /** A worker's own status ({@code GET /v1/shadow/status}), with each control-plane node it says hello to. */
  record Status(String id, int slots, int running, long shadows, long rejected,
      java.util.List<WorkerHeartbeat.Plane> controlPlanes) {}

  private ShadowWire() {}
}
