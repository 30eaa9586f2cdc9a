package dev.penumbra.server;

import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Per-principal quotas ({@code auth.quotas}, docs/server.md "Quotas"): a cap on the CPU and memory a principal's
 * live reservations add up to and on its requests admitting work at once. Over a cap, new work is refused with
 * 429 naming the principal and the quota; other principals are not touched, so one client filling its share
 * cannot crowd out another's critical work.
 *
 * <p>A principal's reservations are those it owns: its direct holds (owner = its name) and its queries' (owner
 * {@code <name>/q<n>}). Streams and tasks are capped by the in-flight count of the requests that drive them.
 */
final class Quotas {
  private final ServerConfig.Auth auth;
  private final Ledger ledger;
  private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();

  Quotas(ServerConfig.Auth auth, Ledger ledger) {
    this.auth = auth;
    this.ledger = ledger;
  }

  /** 429 for a principal over a quota: names the principal and which quota. */
  static final class Exceeded extends ApiException {
    private final String principal;

    Exceeded(String principal, String quota, String limit, String message) {
      super(429, quota, limit, message);
      this.principal = principal;
    }

    String principal() {
      return principal;
    }
  }

  /**
   * Admits one request that admits work ({@code POST}) of the request's principal, or refuses it with 429 when
   * the principal is at its in-flight cap or already holds its CPU or memory cap. Returns what ends it.
   */
  Runnable admit(Context ctx) {
    Optional<ServerConfig.Principal> who = Edge.principal(ctx);
    if (who.isEmpty() || ctx.method() != HandlerType.POST) {
      return () -> {};
    }
    String name = who.get().name();
    Optional<ServerConfig.Quota> quota = auth.quota(name);
    if (quota.isEmpty()) {
      return () -> {};
    }
    ServerConfig.Quota q = quota.get();
    checkHeld(name, q, Resources.ZERO, true);
    AtomicInteger n = inFlight.computeIfAbsent(name, k -> new AtomicInteger());
    if (n.incrementAndGet() > q.inFlight()) {
      n.decrementAndGet();
      throw new Exceeded(name, "inFlight", Integer.toString(q.inFlight()), "principal '" + name
          + "' is at its quota inFlight = " + q.inFlight() + " (requests admitting work at once); retry when one ends");
    }
    return n::decrementAndGet;
  }

  /** Refuses a reservation of {@code more} that would take the principal past its CPU or memory cap. */
  void checkReserve(Optional<ServerConfig.Principal> who, Resources more) {
    if (who.isPresent()) {
      auth.quota(who.get().name()).ifPresent(q -> checkHeld(who.get().name(), q, more, false));
    }
  }

  private void checkHeld(String name, ServerConfig.Quota q, Resources more, boolean atCap) {
    Resources held = held(name);
    long cpu = held.cpuMillis() + more.cpuMillis();
    long mem = held.memoryBytes() + more.memoryBytes();
    // Admitting new work: refused once the cap is reached. Reserving: refused when it would pass the cap.
    if (q.cpuMillis() != Long.MAX_VALUE && (atCap ? cpu >= q.cpuMillis() : cpu > q.cpuMillis())) {
      throw new Exceeded(name, "cpu", Resources.formatCpu(q.cpuMillis()), "principal '" + name
          + "' is at its quota cpu = " + Resources.formatCpu(q.cpuMillis()) + " (holds "
          + Resources.formatCpu(held.cpuMillis()) + (more.cpuMillis() > 0 ? ", asked " + Resources.formatCpu(more
          .cpuMillis()) : "") + ")");
    }
    if (q.memoryBytes() != Long.MAX_VALUE && (atCap ? mem >= q.memoryBytes() : mem > q.memoryBytes())) {
      throw new Exceeded(name, "memory", Resources.formatBytes(q.memoryBytes()), "principal '" + name
          + "' is at its quota memory = " + Resources.formatBytes(q.memoryBytes()) + " (holds "
          + Resources.formatBytes(held.memoryBytes()) + (more.memoryBytes() > 0 ? ", asked "
          + Resources.formatBytes(more.memoryBytes()) : "") + ")");
    }
  }

  /** What the principal's live reservations add up to. */
  Resources held(String name) {
    long cpu = 0;
    long mem = 0;
    for (Reservation r : ledger.snapshot().reservations()) {
      if (r.owner().equals(name) || r.owner().startsWith(name + "/")) {
        cpu += r.amount().cpuMillis();
        mem += r.amount().memoryBytes();
      }
    }
    return Resources.of(cpu, mem);
  }
}
