package dev.penumbra.server;

import io.javalin.Javalin;
import io.javalin.http.HttpResponseException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP layer every request passes through before a route sees it: Jetty's settings (body limit, 405 over 404,
 * JSON for Jetty's own errors), the checks of {@link Edge} (Host/Origin, authentication, content type, body
 * size), and the mapping of every failure to the API's JSON error body.
 */
final class HttpEdge {
  private static final Logger LOG = LoggerFactory.getLogger(HttpEdge.class);

  private HttpEdge() {}

  /** The Javalin app and the {@link Api} its routes were registered through. */
  record App(Javalin javalin, Api api) {}

  /** Creates the app; {@code routes} registers every route through the {@link Api} it is given. */
  static App create(PenumbraServer server, ServerConfig config, Consumer<Api> routes) {
    Api[] holder = new Api[1];
    Javalin app = Javalin.create(cfg -> {
      cfg.startup.showJavalinBanner = false;
      cfg.startup.showOldJavalinVersionWarning = false;
      cfg.jsonMapper(new io.javalin.json.JavalinJackson(Json.MAPPER, false));
      cfg.jetty.host = config.server().host();
      cfg.jetty.port = config.server().port();
      // The body limit is enforced (413 with a JSON error) while reading; Jetty's own limit stays above it.
      cfg.http.maxRequestSize = Math.max(config.server().maxBodyBytes() * 2, 1 << 20);
      // A known path with another method is 405 (with Allow), not 404.
      cfg.http.prefer405over404 = true;
      // Errors Jetty answers itself (a malformed request line, a path it refuses, URI or headers too long) are
      // JSON like every other error, not an HTML page.
      cfg.jetty.modifyServer(s -> {
        s.setErrorHandler(new JsonErrorHandler());
        s.addBean(new ReadDeadlines(s, config.server().headerTimeout(), config.server().bodyTimeout()));
      });
      cfg.staticFiles.enableWebjars();
      Api a = new Api(cfg.routes, server);
      holder[0] = a;
      errors(a, cfg.routes);
      checks(a, cfg.routes, config);
      routes.accept(a);
    });
    return new App(app, holder[0]);
  }

  /** True when a route takes this path and method; false for 405 (another method) and 404 (no such path). */
  private static boolean routed(Api a, io.javalin.http.Context ctx) {
    String allow = a.allowed(ctx.path());
    return java.util.Arrays.asList(allow.split(", ")).contains(ctx.method().name());
  }

  private static void errors(Api a, io.javalin.config.RoutesConfig r) {
    r.exception(ApiException.class, (e, ctx) -> {
      var body = Json.error(e.status(), e.getMessage(), e.field(), e.value());
      if (e instanceof Quotas.Exceeded q) {
        body.put("principal", q.principal());
        ctx.header("Retry-After", "1");
      }
      ctx.status(e.status()).json(body);
    });
    r.exception(HttpResponseException.class, (e, ctx) -> ctx.status(e.getStatus())
        .json(Json.error(e.getStatus(), e.getMessage(), null, null)));
    r.exception(Exception.class, (e, ctx) -> {
      LOG.error("request {} {} failed", ctx.method(), ctx.path(), e);
      // The log has the details; the client learns no internals (class names, stack frames).
      ctx.status(500).json(Json.error(500, "internal error (logged on the server)", null, null));
    });
    r.error(404, "*", ctx -> {
      if (ctx.result() == null || ctx.result().isEmpty()) {
        ctx.json(Json.error(404, "no such resource: " + ctx.method() + " " + ctx.path(), null, null));
      }
    });
    r.error(405, "*", ctx -> {
      String allow = a.allowed(ctx.path());
      if (!allow.isEmpty()) {
        ctx.header("Allow", allow);
      }
      ctx.json(Json.error(405, "method not allowed: " + ctx.method() + " " + ctx.path()
          + (allow.isEmpty() ? "" : " (allowed: " + allow + ")"), null, null));
    });
  }

  private static void checks(Api a, io.javalin.config.RoutesConfig r, ServerConfig config) {
    r.before(ctx -> {
      Edge.checkHostAndOrigin(ctx, config.server().host());
      Edge.authenticate(ctx, config.auth());
      if (routed(a, ctx)) {
        // A method the path does not take is 405, a path no route takes 404, whatever the body's type (routing
        // answers both); an oversized body is still refused (and drained) below first.
        Edge.checkContentType(ctx);
      }
      String len = ctx.header("Content-Length");
      if (len != null) {
        try {
          if (Long.parseLong(len.strip()) > config.server().maxBodyBytes()) {
            Edge.drain(ctx);
            throw new ApiException(413, "(body)", len.strip() + " bytes",
                "request body larger than " + config.server().maxBodyBytes() + " bytes");
          }
        } catch (NumberFormatException ignored) {
          // Jetty rejects a malformed Content-Length itself.
        }
      }
    });
  }
}
