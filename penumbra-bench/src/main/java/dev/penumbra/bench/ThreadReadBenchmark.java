package dev.penumbra.bench;

import java.lang.management.ManagementFactory;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the task sampler's thread reads cost on this JDK: one bulk call of
 * {@code com.sun.management.ThreadMXBean.getThreadCpuTime(long[])} or {@code getThreadAllocatedBytes(long[])}
 * over {@code threads} parked platform threads. Divide by {@code threads} for the cost per task.
 *
 * <p>Run: {@code ./mvnw -B -q -DskipTests package -pl penumbra-bench -am && java -jar
 * penumbra-bench/target/benchmarks.jar ThreadReadBenchmark}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class ThreadReadBenchmark {

  @Param({"1000"})
  public int threads;

  private final CountDownLatch stop = new CountDownLatch(1);
  private com.sun.management.ThreadMXBean mx;
  private long[] ids;

  @Setup(Level.Trial)
  public void setUp() {
    mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    ids = new long[threads];
    for (int i = 0; i < threads; i++) {
      ids[i] = Thread.ofPlatform().daemon().start(() -> {
        try {
          stop.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }).threadId();
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    stop.countDown();
  }

  @Benchmark
  public long[] cpuTimeBulk() {
    return mx.getThreadCpuTime(ids);
  }

  @Benchmark
  public long[] allocatedBytesBulk() {
    return mx.getThreadAllocatedBytes(ids);
  }
}
