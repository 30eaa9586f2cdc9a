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

  private static final String PRINCIPAL = "penumbra.principal";

  /**
   * With authentication configured, every request that changes state ({@code /v1/} and not GET) carries
   * {@code Authorization: Bearer <token>} naming a known principal: 401 otherwise (the token is never echoed or
   * logged). Reads stay open so the dashboard works; bind loopback or put a proxy in front when reads are
   * sensitive.
   */
  static void authenticate(Context ctx, ServerConfig.Auth auth) {
    if (!auth.enabled()) {
      return;
    }
    String header = ctx.header("Authorization");
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      ServerConfig.Principal p = auth.byToken().get(header.substring(7).strip());
      if (p != null) {
        ctx.attribute(PRINCIPAL, p);
        return;
      }
    }
    if (ctx.path().startsWith("/v1/") && ctx.method() != HandlerType.GET && ctx.method() != HandlerType.HEAD) {
      ctx.header("WWW-Authenticate", "Bearer");
      throw new ApiException(401, "Authorization", header == null ? "" : "(hidden)", header == null
          ? "header 'Authorization: Bearer <token>' is required" : "the bearer token is not known");
    }
  }

  /** The authenticated caller of this request, if authentication is configured. */
  static java.util.Optional<ServerConfig.Principal> principal(Context ctx) {
    return java.util.Optional.ofNullable(ctx.attribute(PRINCIPAL));
  }

  /** Refuses a priority above what the principal may use (403 naming the field). */
  static void checkPriority(ServerConfig.Principal p, dev.penumbra.core.Priority asked) {
    if (asked.ordinal() < p.maxPriority().ordinal()) {
      throw new ApiException(403, "priority", asked.label(), "principal '" + p.name() + "' may use priority "
          + p.maxPriority().label() + " at most, asked " + asked.label());
    }
  }

  /**
   * A priority exactly as the API spells it ({@code critical}, {@code standard}, {@code batch}): no padding, no
   * other case, so {@code " critical"} is a mistake reported, not a guess taken.
   */
  static dev.penumbra.core.Priority priority(String text) {
    for (dev.penumbra.core.Priority p : dev.penumbra.core.Priority.values()) {
      if (p.label().equals(text)) {
        return p;
      }
    }
    throw new IllegalArgumentException("priority '" + text + "' is not one of critical, standard, batch");
  }

  /** True when the text holds a control character (NUL, newline ...): never valid in a name. */
  static boolean hasControl(String s) {
    return s != null && s.chars().anyMatch(Character::isISOControl);
  }

  /** How much of an oversized body is read and dropped before its 413 is sent (see {@link #drain}). */
  static final long DRAIN_LIMIT = 2L << 20;

  /**
   * Reads and drops what is left of a refused request's body, up to {@link #DRAIN_LIMIT}, before the error is
   * sent. Otherwise the server closes the connection with the client's unread upload in its buffer, the kernel
   * answers with a reset, and the client loses the 413 it was sent (a client uploading 1 MB saw "no response").
   * A larger or slower body is cut off: the connection is closed (the body read deadline bounds the time).
   */
  static void drain(Context ctx) {
    try {
      var in = ctx.req().getInputStream();
      byte[] buf = new byte[16 << 10];
      long n = 0;
      int r;
      while (n < DRAIN_LIMIT && (r = in.read(buf)) > 0) {
        n += r;
      }
    } catch (java.io.IOException | RuntimeException gone) {
      // The client went away or the deadline cut it off: nothing left to answer.
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
    // JSON between systems is UTF-8 (RFC 8259); a body declared in another charset is not read as if it were.
    for (String param : type.split(";")) {
      String[] kv = param.strip().split("=", 2);
      if (kv.length == 2 && kv[0].strip().equalsIgnoreCase("charset")
          && !kv[1].strip().replace("\"", "").equalsIgnoreCase("utf-8")) {
        throw new ApiException(415, "Content-Type", type, "header 'Content-Type' may name only charset=utf-8, was '"
            + type + "'");
      }
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
