package dev.penumbra.cluster;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.metrics.impl.RatisMetricRegistryImpl;
import org.apache.ratis.thirdparty.com.codahale.metrics.Snapshot;
import org.apache.ratis.thirdparty.com.codahale.metrics.Timer;

/**
 * Where the time of each commit goes on the leader, for diagnosis ({@code bench cluster --stages}): for each
 * log entry a client sent to this replica while it led, the {@link System#nanoTime()} when the request reached
 * the state machine, when its entry was about to be appended to the log, when it was committed and handed to
 * {@code applyTransaction}, and when that returned. {@code nanoTime} is the machine's monotonic clock, the same
 * in every process on one Linux machine, so these join with a client's own stamps by log index.
 */
final class CommitStages {

  private final long[] index;
  private final long[][] stamps;
  private int next;
  private long recorded;

  CommitStages(int capacity) {
    index = new long[capacity];
    stamps = new long[capacity][];
  }

  synchronized void record(long logIndex, long arrived, long preAppend, long applyStart, long applyEnd) {
    index[next] = logIndex;
    stamps[next] = new long[] {arrived, preAppend, applyStart, applyEnd};
    next = (next + 1) % index.length;
    recorded++;
  }

  /**
   * Writes the entries ({@code entry INDEX ARRIVED PRE_APPEND APPLY_START APPLY_END}, oldest first) and every
   * timer of Ratis' metrics in this JVM ({@code timer NAME COUNT P50_MS P99_MS MAX_MS}).
   */
  synchronized void write(Path file) throws IOException {
    try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8))) {
      long n = Math.min(recorded, index.length);
      int first = recorded > index.length ? next : 0;
      for (int k = 0; k < n; k++) {
        int i = (first + k) % index.length;
        long[] s = stamps[i];
        out.printf(Locale.ROOT, "entry %d %d %d %d %d%n", index[i], s[0], s[1], s[2], s[3]);
      }
      for (RatisMetricRegistry r : MetricRegistries.global().getMetricRegistries()) {
        if (!(r instanceof RatisMetricRegistryImpl impl)) {
          continue;
        }
        SortedMap<String, Timer> timers = impl.getDropWizardMetricRegistry().getTimers();
        for (Map.Entry<String, Timer> e : timers.entrySet()) {
          Snapshot s = e.getValue().getSnapshot();
          out.printf(Locale.ROOT, "timer %s %d %.3f %.3f %.3f%n", e.getKey().replace(' ', '_'),
              e.getValue().getCount(), s.getMedian() / 1e6, s.get99thPercentile() / 1e6, s.getMax() / 1e6);
        }
      }
    }
  }
}
