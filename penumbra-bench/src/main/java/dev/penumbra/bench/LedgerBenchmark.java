package dev.penumbra.bench;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Reserve + release pairs per second on the in-memory ledger, on one thread and on four threads sharing one
 * ledger (contention). Target: >= 1,000,000 pairs/s single-threaded on a 2-core machine, and no collapse
 * under contention. {@code listeners=1} adds an event listener, as a server's metrics would.
 *
 * <p>Run: {@code ./mvnw -B -q -DskipTests package -pl penumbra-bench -am && java -jar
 * penumbra-bench/target/benchmarks.jar LedgerBenchmark}
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class LedgerBenchmark {

  @Param({"0", "1"})
  public int listeners;

  private static final Resources AMOUNT = new Resources(100, 64L << 20, 0, 0);
  private static final Duration LEASE = Duration.ofMinutes(5);
  private Ledger ledger;
  private final LongAdder events = new LongAdder();

  @Setup(Level.Trial)
  public void setUp() {
    ledger = Ledger.inMemory(Clock.systemUTC());
    // Room for every thread's reservation at once, so the benchmark measures bookkeeping, not rejection.
    ledger.addNode("node-1", new Resources(64_000, 64L << 30, 1L << 40, 1L << 40));
    for (int i = 0; i < listeners; i++) {
      ledger.subscribe(e -> events.increment());
    }
  }

  private Reservation pair() {
    Reservation r = ledger.reserve("bench", "node-1", AMOUNT, Priority.STANDARD, LEASE);
    return ledger.release(r.id());
  }

  @Benchmark
  @Threads(1)
  public Reservation reserveRelease1Thread() {
    return pair();
  }

  @Benchmark
  @Threads(4)
  public Reservation reserveRelease4Threads() {
    return pair();
  }
}
