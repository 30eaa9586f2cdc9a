package dev.penumbra.eval.task;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.task.MemoryLease;
import dev.penumbra.task.TaskContext;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;

/** The bench's per-task times: memory requests from several of a task's threads at once are all counted. */
class TimedContextTest {

  private static final int THREADS = 8;
  private static final int REQUESTS = 20_000;
  private static final long NANOS_PER_REQUEST = 1_000;

  @Test
  void concurrentMemoryRequestsAreSummedExactly() throws Exception {
    // Each thread's clock advances NANOS_PER_REQUEST between the two reads around one request, so the sum is known
    // whatever the interleaving; a lost update would show as less.
    ThreadLocal<long[]> tick = ThreadLocal.withInitial(() -> new long[1]);
    TimedContext.Times times = new TimedContext.Times(() -> tick.get()[0]++ * NANOS_PER_REQUEST);
    CyclicBarrier together = new CyclicBarrier(THREADS);
    List<Throwable> failures = new ArrayList<>();
    TimedContext.timed(ctx -> {
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        Thread th = new Thread(() -> {
          try {
            together.await();
            for (int i = 0; i < REQUESTS; i++) {
              ctx.memory(1).close();
            }
          } catch (Exception e) {
            synchronized (failures) {
              failures.add(e);
            }
          }
        });
        threads.add(th);
        th.start();
      }
      for (Thread th : threads) {
        th.join();
      }
    }, times).run(new NoMemoryContext());
    assertThat(failures).isEmpty();
    assertThat(times.memoryMs()).isEqualTo(THREADS * REQUESTS * NANOS_PER_REQUEST / 1e6);
  }

  /** A context whose memory requests are granted at once with nothing in them. */
  private static final class NoMemoryContext implements TaskContext {
    @Override
    public String taskId() {
      return "t";
    }

    @Override
    public MemoryLease memory(long bytes) {
      return new MemoryLease() {
        @Override
        public long bytes() {
          return 0;
        }

        @Override
        public int blocks() {
          return 0;
        }

        @Override
        public byte[] block(int i) {
          throw new IndexOutOfBoundsException(i);
        }

        @Override
        public void close() {}
      };
    }

    @Override
    public int parallel(int threads, Runnable work) {
      work.run();
      return 1;
    }

    @Override
    public ReadableByteChannel reading(ReadableByteChannel channel) {
      return channel;
    }

    @Override
    public WritableByteChannel writing(WritableByteChannel channel) {
      return channel;
    }

    @Override
    public void progress(double fraction) {}
  }
}
