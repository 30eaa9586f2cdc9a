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
  private final List<Route> registered = new ArrayList<>();

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
    add(method, path, ctx -> server.admitted(() -> handler.handle(ctx)));
  }

  void add(HandlerType method, String path, Handler handler) {
    routes.addHttpHandler(method, path, handler);
    registered.add(new Route(method.name().toLowerCase(java.util.Locale.ROOT), path));
  }

  /** Every route registered so far. */
  public List<Route> routes() {
    return List.copyOf(registered);
  }
}
