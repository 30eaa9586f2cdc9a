package dev.penumbra.server;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Total deadlines for reading a request (docs/server.md, "Security model"): its headers must be complete within
 * {@code server.headerTimeout} of its first byte, its body within {@code server.bodyTimeout} of its headers.
 * Jetty's idle timeout alone does not do it: each byte resets it, so a client sending one header byte a second
 * (slowloris) held a connection, and a handler thread waiting for its body, for as long as it liked.
 *
 * <p>A pass every quarter of the shorter deadline looks at each connection's HTTP parser: a connection seen in
 * the same phase (headers, body) past its deadline is cut off — with a 408 JSON error when no request was read
 * yet (nothing else writes then), by closing it while a handler reads its body (that read then fails).
 */
final class ReadDeadlines extends AbstractLifeCycle {
  private static final Logger LOG = LoggerFactory.getLogger(ReadDeadlines.class);

  private enum Phase { HEADERS, BODY }

  private record Seen(Phase phase, long sinceNanos) {}

  private final Server server;
  private final long headerNanos;
  private final long bodyNanos;
  private final Map<EndPoint, Seen> seen = new ConcurrentHashMap<>();
  private ScheduledExecutorService timer;

  ReadDeadlines(Server server, Duration headers, Duration body) {
    this.server = server;
    this.headerNanos = headers.toNanos();
    this.bodyNanos = body.toNanos();
  }

  @Override
  protected void doStart() {
    long period = Math.max(20, Math.min(headerNanos, bodyNanos) / 4 / 1_000_000);
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "penumbra-read-deadlines");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleAtFixedRate(this::pass, period, period, TimeUnit.MILLISECONDS);
  }

  @Override
  protected void doStop() {
    timer.shutdownNow();
    seen.clear();
  }

  /** One look at every connection; cuts off those past their phase's deadline. */
  void pass() {
    try {
      long now = System.nanoTime();
      Set<EndPoint> open = new HashSet<>();
      for (Connector c : server.getConnectors()) {
        for (EndPoint ep : c.getConnectedEndPoints()) {
          open.add(ep);
          check(ep, now);
        }
      }
      seen.keySet().retainAll(open);
    } catch (RuntimeException e) {
      LOG.warn("read deadline pass failed", e);
    }
  }

  private void check(EndPoint ep, long now) {
    if (!(ep.getConnection() instanceof HttpConnection hc)) {
      seen.remove(ep);
      return;
    }
    HttpParser parser = hc.getParser();
    Phase phase = parser.isStart() ? null : parser.inHeaderState() ? Phase.HEADERS
        : parser.inContentState() ? Phase.BODY : null;
    if (phase == null) {
      seen.remove(ep);
      return;
    }
    Seen s = seen.compute(ep, (k, old) -> old != null && old.phase() == phase ? old : new Seen(phase, now));
    long limit = phase == Phase.HEADERS ? headerNanos : bodyNanos;
    if (now - s.sinceNanos() < limit) {
      return;
    }
    seen.remove(ep);
    LOG.info("cut off {}: its request {} took longer than {} ms", ep.getRemoteSocketAddress(),
        phase == Phase.HEADERS ? "headers" : "body", limit / 1_000_000);
    if (phase == Phase.HEADERS) {
      byte[] body = Json.error(408, "request headers not complete within " + limit / 1_000_000 + " ms",
          "(headers)", "").toString().getBytes(StandardCharsets.UTF_8);
      String head = "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: "
          + body.length + "\r\nConnection: close\r\n\r\n";
      ByteBuffer out = ByteBuffer.allocate(head.length() + body.length);
      out.put(head.getBytes(StandardCharsets.US_ASCII)).put(body).flip();
      ep.write(Callback.from(ep::close, x -> ep.close()), out);
    } else {
      ep.close();
    }
  }
}
