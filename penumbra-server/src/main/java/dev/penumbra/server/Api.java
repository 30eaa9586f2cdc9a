package dev.penumbra.server;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import java.util.ArrayList;
import java.util.List;

/**
 * Where capabilities (and the server) register routes. Every route is recorded so the OpenAPI file can be
 * checked against what is actually served. Routes that change state ({@link #command}) are refused with 503
 * once the server stops admitting, and are counted while they run so a stop can wait for them.
 */
public final class Api {

  /** One registered route; {@code path} uses OpenAPI's {@code {param}} form. */
  public record Route(String method, String path) {}

  private final RoutesConfig routes;
  private final PenumbraServer server;
  private final List<Route> registered = new java.util.concurrent.CopyOnWriteArrayList<>();

  Api(RoutesConfig routes, PenumbraServer server) {
    this.routes = routes;
    this.server = server;
  }

  /** A read-only route. */
  public void get(String path, Handler handler) {
    add(HandlerType.GET, path, handler);
  }

  /** A route that admits work or changes the ledger: refused while stopping, awaited by a stop. */
  public void command(HandlerType method, String path, Handler handler) {
    add(method, path, ctx -> server.admitted(ctx, () -> handler.handle(ctx)));
  }

  void add(HandlerType method, String path, Handler handler) {
    routes.addHttpHandler(method, path, handler);
    registered.add(new Route(method.name().toLowerCase(java.util.Locale.ROOT), path));
  }

  /** The methods registered for {@code path} (matching {@code {param}} segments), e.g. "GET, DELETE". */
  String allowed(String path) {
    String[] want = path.split("/", -1);
    java.util.Set<String> methods = new java.util.TreeSet<>();
    for (Route route : routes()) {
      String[] have = route.path().split("/", -1);
      if (have.length != want.length) {
        continue;
      }
      boolean match = true;
      for (int i = 0; i < have.length && match; i++) {
        match = have[i].equals(want[i]) || have[i].startsWith("{") && !want[i].isEmpty();
      }
      if (match) {
        methods.add(route.method().toUpperCase(java.util.Locale.ROOT));
      }
    }
    return String.join(", ", methods);
  }

  /** Every route registered so far. */
  public List<Route> routes() {
    return List.copyOf(registered);
  }
}
