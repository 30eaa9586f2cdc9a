package dev.penumbra.server;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** What operators and probes read: {@code /health}, {@code /ready}, {@code /metrics} and the API description. */
final class StatusRoutes {
  private StatusRoutes() {}

  /** {@code GET /ready}: the server's readiness and each capability's. */
  record Ready(boolean ready, Map<String, Boolean> capabilities) {}

  static void register(Api a, PenumbraServer server, PrometheusMeterRegistry registry, Runnable refreshMetrics) {
    a.get("/health", ctx -> ctx.json(Map.of("status", "up")));
    a.get("/ready", ctx -> {
      boolean ready = server.ready();
      Map<String, Boolean> caps = new java.util.LinkedHashMap<>();
      server.capabilities().forEach(c -> caps.put(c.name(), c.view().ready()));
      ctx.status(ready ? 200 : 503).json(new Ready(ready, caps));
    });
    a.get("/metrics", ctx -> {
      refreshMetrics.run();
      ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(registry.scrape());
    });
    a.get("/v1/openapi.json", ctx -> ctx.contentType("application/json").result(resource("openapi.json")));
  }

  /** A text resource of this package, e.g. {@code openapi.json} or {@code web/index.html}. */
  static String resource(String name) {
    try (InputStream in = StatusRoutes.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("resource " + name + " is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
