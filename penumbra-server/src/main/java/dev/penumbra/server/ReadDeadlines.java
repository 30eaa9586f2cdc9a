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
import org.eclipse.jetty.io.Connection;
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
 * <p>One timer thread for every connection, no thread per connection. A connection's first request starts its
 * header deadline when the connection opens; later phases (a body, the next request on a kept-alive connection) are
 * noticed by a pass over the connections' HTTP parsers every {@link #MAX_PASS} at most — a request's headers from the
 * parser's own time of its first byte, a body from when the pass sees it. Each start
 * schedules one check at its own deadline, so a cut comes at the deadline, not at the next pass after it (that
 * design cut a 10 s header deadline at 10-13.5 s). A check cuts only if the connection is still in the same phase of
 * the same request — with a 408 JSON error when no request was read yet (nothing else writes then), by closing it
 * while a handler reads its body (that read then fails).
 */
final class ReadDeadlines extends AbstractLifeCycle {
  private static final Logger LOG = LoggerFactory.getLogger(ReadDeadlines.class);
  /** The longest a later phase's start may go unnoticed. */
  static final Duration MAX_PASS = Duration.ofMillis(200);

  private enum Phase { HEADERS, BODY }

  /**
   * A phase of one request and when it began; {@code messages} is the connection's count of requests whose headers
   * were complete then (Jetty counts a request at the end of its headers), which tells requests apart.
   */
  private record Seen(Phase phase, long messages, long sinceNanos) {}

  private final Server server;
  private final long headerNanos;
  private final long bodyNanos;
  private final Map<EndPoint, Seen> seen = new ConcurrentHashMap<>();
  private final Connection.Listener opened = new Connection.Listener() {
    @Override
    public void onOpened(Connection c) {
      if (c instanceof HttpConnection hc) {
        start(c.getEndPoint(), new Seen(Phase.HEADERS, hc.getMessagesIn(), System.nanoTime()));
      }
    }

    @Override
    public void onClosed(Connection c) {
      seen.remove(c.getEndPoint());
    }
  };
  private ScheduledExecutorService timer;

  ReadDeadlines(Server server, Duration headers, Duration body) {
    this.server = server;
    this.headerNanos = headers.toNanos();
    this.bodyNanos = body.toNanos();
  }

  @Override
  protected void doStart() {
    long period = Math.max(20, Math.min(MAX_PASS.toMillis(), Math.min(headerNanos, bodyNanos) / 4 / 1_000_000));
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "penumbra-read-deadlines");
      t.setDaemon(true);
      return t;
    });
    for (Connector c : server.getConnectors()) {
      c.addEventListener(opened);
    }
    timer.scheduleAtFixedRate(this::pass, period, period, TimeUnit.MILLISECONDS);
  }

  @Override
  protected void doStop() {
    for (Connector c : server.getConnectors()) {
      c.removeEventListener(opened);
    }
    timer.shutdownNow();
    seen.clear();
  }

  /** Records a phase's start and schedules its check at its deadline. */
  private void start(EndPoint ep, Seen s) {
    seen.put(ep, s);
    long limit = s.phase() == Phase.HEADERS ? headerNanos : bodyNanos;
    long delay = Math.max(0, s.sinceNanos() + limit - System.nanoTime());
    try {
      timer.schedule(() -> check(ep, s), delay, TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException stopping) {
      // The server stops; Jetty closes the connection.
    }
  }

  /** Notices phases that began since the last pass (a body, a kept-alive connection's next request). */
  void pass() {
    try {
      Set<EndPoint> open = new HashSet<>();
      for (Connector c : server.getConnectors()) {
        for (EndPoint ep : c.getConnectedEndPoints()) {
          open.add(ep);
          observe(ep);
        }
      }
      seen.keySet().retainAll(open);
    } catch (RuntimeException e) {
      LOG.warn("read deadline pass failed", e);
    }
  }

  private void observe(EndPoint ep) {
    if (!(ep.getConnection() instanceof HttpConnection hc)) {
      return;
    }
    Phase phase = phase(hc.getParser());
    if (phase == null) {
      return; // between requests: a new phase starts with the next request's first byte
    }
    Seen s = seen.get(ep);
    if (s == null || s.phase() != phase || s.messages() != hc.getMessagesIn()) {
      // Headers: the parser knows when the request's first byte came; a body's start is when this pass sees it.
      long begin = hc.getParser().getBeginNanoTime();
      long now = System.nanoTime();
      long since = phase == Phase.HEADERS && begin != 0 && now - begin >= 0 ? begin : now;
      start(ep, new Seen(phase, hc.getMessagesIn(), since));
    }
  }

  private static Phase phase(HttpParser parser) {
    return parser.isStart() ? null : parser.inHeaderState() ? Phase.HEADERS
        : parser.inContentState() ? Phase.BODY : null;
  }

  /** At {@code s}'s deadline: cuts the connection off if it is still in that phase of that request. */
  private void check(EndPoint ep, Seen s) {
    try {
      if (seen.get(ep) != s || !ep.isOpen() || !(ep.getConnection() instanceof HttpConnection hc)
          || hc.getMessagesIn() != s.messages() || phase(hc.getParser()) != s.phase()) {
        return;
      }
      seen.remove(ep);
      cut(ep, s.phase());
    } catch (RuntimeException e) {
      LOG.warn("read deadline check failed", e);
    }
  }

  private void cut(EndPoint ep, Phase phase) {
    long limit = phase == Phase.HEADERS ? headerNanos : bodyNanos;
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
