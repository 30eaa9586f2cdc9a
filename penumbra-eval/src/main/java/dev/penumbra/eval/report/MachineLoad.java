package dev.penumbra.eval.report;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/** The machine's load, written beside every benchmark figure (others may be sharing the cores). */
public final class MachineLoad {
  private MachineLoad() {}

  /** {@code /proc/loadavg} as it reads (1, 5 and 15 minutes, tasks, last pid) and the core count; "unknown" elsewhere. */
  public static String text() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim() + " (" + Runtime.getRuntime().availableProcessors()
          + " cores)";
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** The 1-minute load average (NaN where the JVM cannot read it). */
  public static double oneMinute() {
    double l = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    return l < 0 ? Double.NaN : l;
  }
}
