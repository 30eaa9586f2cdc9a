package dev.penumbra.server;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A shadow worker's hellos to every node of its control plane. Each node of a replicated control plane
 * ({@code serve --cluster}) keeps its own registry of workers, in memory; the worker says hello to all of them
 * every {@link ShadowWorkers#HEARTBEAT}, so when the leader dies the node that takes over already knows the
 * worker and has heard from it within the last heartbeat: nothing to re-register, nothing to replicate (a
 * registry entry is a few fields renewed twice a second; putting it through the Raft log would cost a commit per
 * heartbeat per worker for state that rebuilds itself in half a second). Hellos go out in parallel, each with its
 * own timeout, so a node that hangs delays no other; a node whose previous hello has not come back is skipped
 * that round.
 */
final class WorkerHeartbeat implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerHeartbeat.class);
  /** How long one hello may take. */
  static final Duration HELLO_TIMEOUT = Duration.ofSeconds(2);

  /**
   * One control-plane node as the worker sees it.
   *
   * @param registered whether its last hello was welcomed
   * @param lastWelcome when it last welcomed this worker (ISO-8601), null when never
   * @param lastError why its last hello failed, null when it did not
   */
  record Plane(String url, boolean registered, String lastWelcome, String lastError) {}

  private static final class State {
    volatile boolean pending;
    volatile Instant lastWelcome;
    volatile String lastError;
    volatile boolean registered;
  }

  private final String id;
  private final List<URI> planes;
  private final String token;
  private final byte[] hello;
  private final Clock clock;
  private final Consumer<String> log;
  private final Map<URI, State> states = new ConcurrentHashMap<>();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(1)).build();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "penumbra-shadow-heartbeat");
    t.setDaemon(true);
    return t;
  });

  /**
   * @param planes the control plane's nodes, as {@link #parse} gives them
   * @param hello the body of every hello (the worker's registration)
   * @param log told when a node stops or starts welcoming the worker
   */
  WorkerHeartbeat(String id, List<URI> planes, String token, byte[] hello, Clock clock, Consumer<String> log) {
    this.id = id;
    this.planes = List.copyOf(planes);
    this.token = token;
    this.hello = hello.clone();
    this.clock = clock;
    this.log = log;
    for (URI p : planes) {
      states.put(p, new State());
    }
  }

  /**
   * The control plane's nodes from {@code --control-plane}: one base URL, or several separated by commas (every
   * node of a replicated control plane).
   *
   * @throws IllegalArgumentException naming the option, the value and what is wrong
   */
  static List<URI> parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("--control-plane = '" + text
          + "': must be http://HOST:PORT[,http://HOST:PORT...]");
    }
    Set<URI> out = new LinkedHashSet<>();
    for (String part : text.split(",", -1)) {
      String url;
      try {
        url = ShadowWorkers.checkUrl(part);
      } catch (ApiException e) {
        throw new IllegalArgumentException("--control-plane = '" + text + "': '" + part + "' " + e.getMessage(), e);
      }
      if (!out.add(URI.create(url))) {
        throw new IllegalArgumentException("--control-plane = '" + text + "': " + url + " is given twice");
      }
    }
    return List.copyOf(out);
  }

  /** Says hello to every node now and then every {@code period}. */
  void start(Duration period) {
    timer.scheduleWithFixedDelay(this::beat, 0, period.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** One round: a hello to every node whose previous one has come back. */
  void beat() {
    for (URI plane : planes) {
      State s = states.get(plane);
      if (s.pending) {
        continue;
      }
      s.pending = true;
      CompletableFuture<HttpResponse<String>> f;
      try {
        f = http.sendAsync(request(plane, "/v1/shadow-workers").timeout(HELLO_TIMEOUT)
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(hello))
            .build(), HttpResponse.BodyHandlers.ofString());
      } catch (RuntimeException e) {
        f = CompletableFuture.failedFuture(e);
      }
      f.whenComplete((r, e) -> {
        String error = e != null ? "unreachable: " + rootMessage(e)
            : r.statusCode() == 200 ? null : "answered " + r.statusCode() + ": " + r.body();
        if (error == null) {
          s.lastWelcome = clock.instant();
        }
        report(plane, s, error);
        s.pending = false;
      });
    }
  }

  /**
   * Logs a node's failure once, not every heartbeat, and its recovery. Failures of one kind ("unreachable",
   * "answered 503") count as one, whatever their detail (a refused connection, then a time-out).
   */
  private void report(URI plane, State s, String error) {
    if (error != null && !kind(error).equals(s.lastError == null ? null : kind(s.lastError))) {
      LOG.warn("shadow worker {}: control plane {} {}", id, plane, error);
      log.accept("shadow worker " + id + ": control plane " + plane + " " + error);
    } else if (error == null && s.lastError != null) {
      LOG.info("shadow worker {}: registered again with {}", id, plane);
      log.accept("shadow worker " + id + ": registered again with " + plane);
    }
    s.lastError = error;
    s.registered = error == null;
  }

  private static String kind(String error) {
    int colon = error.indexOf(':');
    return colon < 0 ? error : error.substring(0, colon);
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  /** Each node as this worker sees it, in the order given. */
  List<Plane> planes() {
    List<Plane> out = new ArrayList<>();
    for (URI p : planes) {
      State s = states.get(p);
      Instant w = s.lastWelcome;
      out.add(new Plane(p.toString(), s.registered, w == null ? null : w.toString(), s.lastError));
    }
    return out;
  }

  private HttpRequest.Builder request(URI plane, String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(plane.resolve(path));
    if (token != null && !token.isBlank()) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  /** Stops the hellos and says goodbye to every node (in parallel; a node that does not answer drops it anyway). */
  @Override
  public void close() {
    timer.shutdownNow();
    List<CompletableFuture<?>> byes = new ArrayList<>();
    for (URI plane : planes) {
      byes.add(http.sendAsync(request(plane, "/v1/shadow-workers/" + id).timeout(HELLO_TIMEOUT).DELETE().build(),
          HttpResponse.BodyHandlers.discarding()).exceptionally(e -> null));
    }
    try {
      CompletableFuture.allOf(byes.toArray(CompletableFuture[]::new)).get(HELLO_TIMEOUT.toMillis() + 500,
          TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      // The control plane drops a silent worker anyway.
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
    }
    http.close();
  }
}
