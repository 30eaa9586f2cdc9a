package dev.penumbra.eval.server;

import dev.penumbra.eval.report.BenchReport;
import java.io.PrintStream;
import java.util.Locale;

/** What {@code penumbra bench server} prints: a table for a person, or the result record as JSON. */
public record LoadBenchReport(LoadBench.Result result) implements BenchReport {

  /**
   * True when every correctness target holds: no 5xx, no lost response, no invariant violation, nothing left, no
   * hostile request accepted, every sandbox probe refused and every slow-header client cut off.
   */
  public boolean clean() {
    LoadBench.Result r = result;
    LoadBench.Hostile h = r.hostile();
    return r.serverErrors() == 0 && r.invariantViolations() == 0 && r.leftReserved() == 0
        && r.transportErrors() == 0 && (h == null || (h.accepted() == 0 && h.probesRefused() == h.probes() && h.slowCutOff() == h.slowClients()));
  }

  @Override
  public Object json() {
    return result;
  }

  @Override
  public void table(PrintStream out) {
    LoadBench.Result r = result;
    out.printf(Locale.ROOT, "requests %d in %.1f s: %.1f/s; statuses %s%n", r.sent(), r.seconds(), r.perSecond(),
        r.byStatus());
    out.printf(Locale.ROOT, "latency ms      count      p50      p99      max%n");
    print(out, "all", r.all());
    r.byKind().forEach((k, v) -> print(out, k, v));
    out.printf(Locale.ROOT, "5xx: %d (target 0); no response: %d%n", r.serverErrors(), r.transportErrors());
    out.printf(Locale.ROOT, "ledger events checked: %d, invariant violations: %d (target 0)%n",
        r.ledgerEvents(), r.invariantViolations());
    out.printf(Locale.ROOT, "left reserved after the load: %d (target 0)%n", r.leftReserved());
    LoadBench.Hostile h = r.hostile();
    if (h != null) {
      out.printf(Locale.ROOT, "hostile: %d sent, %d refused 4xx, %d accepted (target 0); sandbox probes refused %d/%d;"
          + " hog released for waiting work: %s%n", h.sent(), h.refused(), h.accepted(), h.probesRefused(), h.probes(),
          h.hogReleased());
      out.printf(Locale.ROOT, "resident memory: %.0f MiB before, %.0f MiB after%n", h.residentBytesBefore() / 1048576.0,
          h.residentBytesAfter() / 1048576.0);
      out.printf(Locale.ROOT, "slow-header clients cut off: %d/%d (target all), after %.0f-%.0f ms for a %d ms header "
          + "deadline: at most %+.0f ms past it (target within 500 ms)%n", h.slowCutOff(), h.slowClients(),
          h.slowCutOffMillisMin(), h.slowCutOffMillisMax(), h.headerDeadlineMillis(),
          h.slowCutOffMillisMax() - h.headerDeadlineMillis());
    }
  }

  private static void print(PrintStream out, String kind, LoadBench.Latency l) {
    out.printf(Locale.ROOT, "%-12s %8d %8.1f %8.1f %8.1f%n", kind, l.count(), l.p50(), l.p99(), l.max());
  }
}
