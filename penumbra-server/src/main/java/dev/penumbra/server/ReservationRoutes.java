package dev.penumbra.server;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.InsufficientCapacityException;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.LedgerEvent;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Reservation;
import io.javalin.http.HandlerType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger over HTTP: nodes, reservations, events, and the holds clients take directly through
 * {@code POST /v1/reservations} (which only their principal or an admin may release, and which critical work
 * preempts: {@link #makeRoomForWaiting()}).
 */
final class ReservationRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(ReservationRoutes.class);
  /** A lease longer than a day is a typo or a hog. */
  private static final Duration MAX_LEASE = Duration.ofDays(1);

  private final PenumbraServer server;
  private final Ledger ledger;
  private final ServerConfig config;
  private final EventLog events;
  /**
   * Live reservations clients took through POST /v1/reservations, by id: the principal that took it ("" without
   * authentication). Only these may be released over HTTP, and they are preemptible for critical work.
   */
  private final Map<Long, String> manual = new ConcurrentHashMap<>();

  /** Where the holds are kept across restarts; null without a data directory. */
  private final DataDir dataDir;

  ReservationRoutes(PenumbraServer server, EventLog events, DataDir dataDir) {
    this.server = server;
    this.ledger = server.ledger();
    this.config = server.config();
    this.events = events;
    this.dataDir = dataDir;
  }

  /**
   * A direct hold as {@code holds.json} keeps it.
   *
   * @param principal who took it ("" without authentication)
   */
  record Hold(long id, String owner, String node, long cpuMillis, long memoryBytes, String priority, String state,
      String created, String leaseExpiry, String principal) {
    static Hold of(Reservation r, String principal) {
      return new Hold(r.id(), r.owner(), r.node(), r.amount().cpuMillis(), r.amount().memoryBytes(),
          r.priority().label(), r.state().name(), r.created().toString(), r.leaseExpiry().toString(), principal);
    }

    Reservation reservation() {
      return new Reservation(id, owner, node, Resources.of(cpuMillis, memoryBytes), Priority.parse(priority),
          Reservation.State.valueOf(state), java.time.Instant.parse(created), java.time.Instant.parse(leaseExpiry));
    }
  }

  /**
   * Puts back the holds an earlier run saved, with their ids and leases (a lease that ran out meanwhile expires on
   * the timer's next pass). Returns how many.
   */
  int restoreHolds() {
    if (dataDir == null) {
      return 0;
    }
    int n = 0;
    for (Hold h : dataDir.holds()) {
      try {
        Reservation r = ledger.restore(h.reservation());
        manual.put(r.id(), h.principal());
        n++;
      } catch (RuntimeException e) {
        // A node removed from the configuration, or less capacity than before: said, not silently dropped.
        LOG.warn("saved hold #{} of {} ({}) cannot be restored: {}", h.id(), h.owner(), h.cpuMillis() + "m/"
            + h.memoryBytes() + "B", e.getMessage());
      }
    }
    saveHolds();
    return n;
  }

  /** Rewrites holds.json with the live holds (after every change of one). */
  void saveHolds() {
    if (dataDir == null) {
      return;
    }
    synchronized (manual) {
      List<Hold> live = new ArrayList<>();
      for (Map.Entry<Long, String> e : manual.entrySet()) {
        ledger.get(e.getKey()).filter(Reservation::isLive).ifPresent(r -> live.add(Hold.of(r, e.getValue())));
      }
      live.sort(Comparator.comparingLong(Hold::id));
      dataDir.saveHolds(live);
    }
  }

  /** A ledger event: a hold that ended (expired, preempted, released) is forgotten and the file rewritten. */
  void onEvent(LedgerEvent e) {
    Reservation r = e.after() != null ? e.after() : e.before();
    if (r == null || !manual.containsKey(r.id())) {
      return;
    }
    if (e.after() == null || !e.after().isLive()) {
      manual.remove(r.id());
    }
    saveHolds();
  }

  /** Manual reservation: what an external scheduler asks for. */
  record ReservationBody(String owner, String node, String cpu, String memory, String priority, Double leaseSeconds) {}

  void register(Api a) {
    a.get("/v1/nodes", ctx -> {
      ctx.json(ledger.nodes().stream().map(LedgerJson.Node::of).toList());
    });
    a.get("/v1/reservations", ctx -> {
      String state = Optional.ofNullable(ctx.queryParam("state")).orElse("live");
      List<Reservation> chosen = switch (state) {
        case "live" -> ledger.snapshot().reservations();
        case "ended" -> ended();
        default -> throw new ApiException(400, "state", state, "query parameter 'state' must be live or ended");
      };
      ctx.json(chosen.stream().map(LedgerJson.Res::of).toList());
    });
    a.get("/v1/reservations/{id}", ctx -> {
      long id = longParam("id", ctx.pathParam("id"));
      Reservation res = ledger.get(id).orElseThrow(() -> new ApiException(404, "id", Long.toString(id),
          "no reservation " + id));
      List<LedgerJson.Event> history = new ArrayList<>();
      for (LedgerEvent e : events.all()) {
        Reservation x = e.after() != null ? e.after() : e.before();
        if (x != null && x.id() == id) {
          history.add(LedgerJson.Event.of(e));
        }
      }
      ctx.json(LedgerJson.ResWithHistory.of(res, history));
    });
    a.command(HandlerType.POST, "/v1/reservations", ctx -> {
      ReservationBody b = Json.read(ctx, ReservationBody.class, config.server().maxBodyBytes());
      Optional<ServerConfig.Principal> who = Edge.principal(ctx);
      if (who.isPresent()) {
        if (b.owner() != null && !b.owner().equals(who.get().name()) && !who.get().admin()) {
          throw new ApiException(403, "owner", b.owner(), "field 'owner' must be your principal '"
              + who.get().name() + "' (or absent)");
        }
        Edge.checkPriority(who.get(), parsePriority(b.priority()));
        if (b.owner() == null) {
          b = new ReservationBody(who.get().name(), b.node(), b.cpu(), b.memory(), b.priority(), b.leaseSeconds());
        }
      }
      Reservation res = reserve(b, who);
      manual.put(res.id(), who.map(ServerConfig.Principal::name).orElse(""));
      saveHolds();
      ctx.status(201).json(LedgerJson.Res.of(res));
    });
    a.command(HandlerType.DELETE, "/v1/reservations/{id}", ctx -> {
      long id = longParam("id", ctx.pathParam("id"));
      Reservation res = ledger.get(id).orElseThrow(() -> new ApiException(404, "id", Long.toString(id),
          "no reservation " + id));
      if (!res.isLive()) {
        throw new ApiException(409, "id", Long.toString(id), "reservation " + id + " is already "
            + res.state().name().toLowerCase(Locale.ROOT));
      }
      String holder = manual.get(id);
      Optional<ServerConfig.Principal> who = Edge.principal(ctx);
      if (holder == null && !who.map(ServerConfig.Principal::admin).orElse(false)) {
        // A query's, stream's or task's reservation: released by its capability when the work ends. Taking it
        // away over HTTP left a running query on cores the ledger showed free.
        throw new ApiException(403, "id", Long.toString(id), "reservation " + id + " is held by running work ("
            + res.owner() + "); only an admin may release it");
      }
      if (who.isPresent() && !who.get().admin() && !who.get().name().equals(holder)) {
        throw new ApiException(403, "id", Long.toString(id), "reservation " + id + " belongs to another principal");
      }
      try {
        manual.remove(id);
        Reservation ended = ledger.release(id);
        saveHolds();
        ctx.json(LedgerJson.Res.of(ended));
      } catch (IllegalStateException e) {
        throw new ApiException(409, "id", Long.toString(id), e.getMessage());
      }
    });
    a.get("/v1/events", ctx -> {
      long since = ctx.queryParam("since") == null ? -1 : longParam("since", ctx.queryParam("since"));
      long limit = ctx.queryParam("limit") == null ? 500 : longParam("limit", ctx.queryParam("limit"));
      if (limit < 1 || limit > events.capacity()) {
        throw new ApiException(400, "limit", Long.toString(limit), "limit must be in [1, " + events.capacity() + "]");
      }
      List<LedgerEvent> all = events.all().stream().filter(e -> e.sequence() > since).toList();
      ctx.json(all.subList((int) Math.max(0, all.size() - limit), all.size()).stream().map(LedgerJson.Event::of)
          .toList());
    });
  }

  /**
   * Waiting work gets through a hog: while a capability has work waiting for capacity, the live reservations
   * clients took through {@code POST /v1/reservations} at a strictly lower priority than the most urgent waiting
   * work are preempted, one per timer pass (lowest priority first, then the newest), until it is admitted — the
   * ledger's own rule (critical preempts standard and batch, standard preempts batch). Capabilities' own
   * reservations are not taken: a running query cannot give its memory back. Returns the id preempted.
   */
  Optional<Long> makeRoomForWaiting() {
    Optional<Priority> waiting = server.capabilities().stream().map(c -> c.admission().mostUrgentWaiting())
        .flatMap(Optional::stream).min(Comparator.naturalOrder());
    if (waiting.isEmpty()) {
      return Optional.empty();
    }
    Optional<Reservation> victim = ledger.snapshot().reservations().stream()
        .filter(r -> manual.containsKey(r.id()) && r.priority().compareTo(waiting.get()) > 0)
        .min(Comparator.comparing((Reservation r) -> r.priority(), Comparator.reverseOrder())
            .thenComparing(Reservation::created, Comparator.reverseOrder()));
    if (victim.isEmpty()) {
      return Optional.empty();
    }
    Reservation r = victim.get();
    try {
      ledger.release(r.id());
    } catch (IllegalStateException | IllegalArgumentException e) {
      return Optional.empty(); // ended meanwhile
    }
    manual.remove(r.id());
    LOG.info("released manual reservation #{} (owner {}, {}) to admit waiting {} work", r.id(), r.owner(),
        r.priority().label(), waiting.get().label());
    return Optional.of(r.id());
  }

  private List<Reservation> ended() {
    Map<Long, Reservation> last = new LinkedHashMap<>();
    for (LedgerEvent e : events.all()) {
      if (e.after() != null && !e.after().isLive()) {
        last.put(e.after().id(), e.after());
      }
    }
    List<Reservation> l = new ArrayList<>(last.values());
    return l.subList(Math.max(0, l.size() - 500), l.size());
  }

  private static Priority parsePriority(String text) {
    try {
      return text == null ? Priority.STANDARD : Edge.priority(text);
    } catch (IllegalArgumentException e) {
      throw new ApiException(400, "priority", text, "field 'priority' must be critical, standard or batch");
    }
  }

  private Reservation reserve(ReservationBody b, Optional<ServerConfig.Principal> who) {
    if (b.owner() == null || b.owner().isBlank() || b.owner().length() > 200 || Edge.hasControl(b.owner())) {
      throw new ApiException(400, "owner", String.valueOf(b.owner()),
          "field 'owner' must be 1 to 200 characters, none a control character");
    }
    String node = b.node() == null ? config.ledger().node() : b.node();
    NodeView view = ledger.nodes().stream().filter(v -> v.id().equals(node)).findFirst()
        .orElseThrow(() -> new ApiException(400, "node", node, "unknown node '" + node + "'"));
    long cpu = amount("cpu", b.cpu(), Resources::parseCpuMillis);
    long mem = amount("memory", b.memory(), Resources::parseBytes);
    if (cpu == 0 && mem == 0) {
      throw new ApiException(400, "cpu", String.valueOf(b.cpu()), "a reservation needs cpu or memory > 0");
    }
    if (cpu > view.capacity().cpuMillis()) {
      throw new ApiException(422, "cpu", b.cpu(), "cpu " + b.cpu() + " exceeds node '" + node + "' capacity "
          + Resources.formatCpu(view.capacity().cpuMillis()));
    }
    if (mem > view.capacity().memoryBytes()) {
      throw new ApiException(422, "memory", b.memory(), "memory " + b.memory() + " exceeds node '" + node
          + "' capacity " + Resources.formatBytes(view.capacity().memoryBytes()));
    }
    Priority p = parsePriority(b.priority());
    double lease = b.leaseSeconds() == null ? 60 : b.leaseSeconds();
    if (!(lease > 0) || lease > MAX_LEASE.toSeconds()) {
      throw new ApiException(400, "leaseSeconds", String.valueOf(b.leaseSeconds()),
          "field 'leaseSeconds' must be > 0 and <= " + MAX_LEASE.toSeconds());
    }
    server.quotas().checkReserve(who, Resources.of(cpu, mem));
    try {
      return ledger.reserve(b.owner(), node, Resources.of(cpu, mem), p, Duration.ofMillis((long) (lease * 1000)),
          Reservation.State.ACTIVE);
    } catch (InsufficientCapacityException e) {
      throw new ApiException(409, "memory", b.memory(), "does not fit now: " + e.getMessage());
    }
  }

  private static long amount(String field, String text, ToLongFunction<String> parse) {
    if (text == null) {
      return 0;
    }
    try {
      return parse.applyAsLong(text);
    } catch (RuntimeException e) {
      throw new ApiException(400, field, text, "field '" + field + "' is not a valid non-negative amount: '"
          + text + "'");
    }
  }

  static long longParam(String name, String text) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new ApiException(400, name, text, "'" + name + "' must be an integer, was '" + text + "'");
    }
  }
}
