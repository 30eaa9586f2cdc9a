package dev.penumbra.server;

import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.net.URI;
import java.util.Locale;
import java.util.Set;

/**
 * Checks every request passes before a route sees it (docs/server.md, "Security model"): a browser page on
 * another origin must not drive the API, and a rebound DNS name must not read its replies.
 *
 * <ul>
 *   <li>A request that changes state carries {@code Content-Type: application/json}: a cross-site form or
 *       {@code text/plain} fetch cannot send that without a CORS preflight, which this server never grants.
 *   <li>On a loopback bind the {@code Host} header names a loopback address (DNS rebinding sends the
 *       attacker's name); an {@code Origin} header, when present, names the same host the request was sent to.
 * </ul>
 */
final class Edge {
  private static final Set<String> LOOPBACK = Set.of("localhost", "127.0.0.1", "::1", "[::1]");

  private Edge() {}

  static boolean isLoopback(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    return LOOPBACK.contains(h) || h.startsWith("127.") || h.endsWith(".localhost");
  }

  static void checkHostAndOrigin(Context ctx, String boundHost) {
    String host = ctx.header("Host");
    String hostName = host == null ? "" : hostName(host);
    if (isLoopback(boundHost) && !isLoopback(hostName)) {
      throw new ApiException(403, "Host", String.valueOf(host),
          "header 'Host' must name this server's loopback address, was '" + host + "'");
    }
    String origin = ctx.header("Origin");
    if (origin != null) {
      String originHost;
      try {
        URI u = URI.create(origin.strip());
        originHost = u.getHost() == null ? "" : u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort());
      } catch (IllegalArgumentException e) {
        originHost = "";
      }
      if (host == null || !originHost.equalsIgnoreCase(host.strip())) {
        throw new ApiException(403, "Origin", origin,
            "header 'Origin' must be this server (" + host + "), was '" + origin + "': cross-origin requests are refused");
      }
    }
  }

  static void checkContentType(Context ctx) {
    HandlerType m = ctx.method();
    if (m != HandlerType.POST && m != HandlerType.PUT && m != HandlerType.PATCH) {
      return;
    }
    String type = ctx.header("Content-Type");
    String base = type == null ? "" : type.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
    if (!base.equals("application/json")) {
      throw new ApiException(415, "Content-Type", String.valueOf(type),
          "header 'Content-Type' must be application/json, was '" + type + "'");
    }
  }

  private static String hostName(String hostHeader) {
    String h = hostHeader.strip();
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end < 0 ? h : h.substring(0, end + 1);
    }
    int colon = h.lastIndexOf(':');
    return colon < 0 ? h : h.substring(0, colon);
  }
}
