package dev.penumbra.task;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/** Reads per-thread CPU time and allocated bytes; the MXBean in production, a script in tests. */
interface ThreadProbe {

  /** CPU time of each thread in nanoseconds, -1 where unknown (ended thread, unsupported). */
  long[] cpuNanos(long[] ids);

  /** Bytes allocated by each thread so far, -1 where unknown. */
  long[] allocatedBytes(long[] ids);

  /** CPU time of the calling thread, nanoseconds (0 when unsupported). */
  long currentThreadCpuNanos();

  /**
   * The JVM's thread MXBean, with the bulk calls of {@code com.sun.management.ThreadMXBean} where the JDK has
   * them (one call for all threads instead of one per thread).
   */
  static ThreadProbe mxBean() {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    boolean cpu = mx.isThreadCpuTimeSupported();
    if (cpu && !mx.isThreadCpuTimeEnabled()) {
      mx.setThreadCpuTimeEnabled(true);
    }
    if (mx instanceof com.sun.management.ThreadMXBean ext) {
      if (ext.isThreadAllocatedMemorySupported() && !ext.isThreadAllocatedMemoryEnabled()) {
        ext.setThreadAllocatedMemoryEnabled(true);
      }
      boolean alloc = ext.isThreadAllocatedMemorySupported();
      return new ThreadProbe() {
        @Override
        public long[] cpuNanos(long[] ids) {
          return cpu ? ext.getThreadCpuTime(ids) : unknown(ids);
        }

        @Override
        public long[] allocatedBytes(long[] ids) {
          return alloc ? ext.getThreadAllocatedBytes(ids) : unknown(ids);
        }

        @Override
        public long currentThreadCpuNanos() {
          return cpu ? ext.getCurrentThreadCpuTime() : 0;
        }
      };
    }
    return new ThreadProbe() {
      @Override
      public long[] cpuNanos(long[] ids) {
        long[] out = unknown(ids);
        if (cpu) {
          for (int i = 0; i < ids.length; i++) {
            out[i] = mx.getThreadCpuTime(ids[i]);
          }
        }
        return out;
      }

      @Override
      public long[] allocatedBytes(long[] ids) {
        return unknown(ids);
      }

      @Override
      public long currentThreadCpuNanos() {
        return cpu ? mx.getCurrentThreadCpuTime() : 0;
      }
    };
  }

  private static long[] unknown(long[] ids) {
    long[] out = new long[ids.length];
    java.util.Arrays.fill(out, -1);
    return out;
  }
}
