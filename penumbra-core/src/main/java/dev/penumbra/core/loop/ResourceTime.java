package dev.penumbra.core.loop;

import dev.penumbra.core.Resources;

/**
 * Resources integrated over time: millicore-seconds of CPU, byte-seconds of memory, and bytes of IO and network
 * (their amounts are rates). Used to compare what was reserved with what was used over a run.
 */
public record ResourceTime(double cpuMilliSeconds, double memoryByteSeconds, double ioBytes, double networkBytes) {

  public static final ResourceTime ZERO = new ResourceTime(0, 0, 0, 0);

  /** {@code amount} held for {@code seconds}. */
  public static ResourceTime of(Resources amount, double seconds) {
    return new ResourceTime(amount.cpuMillis() * seconds, amount.memoryBytes() * seconds,
        amount.ioBytesPerSec() * seconds, amount.networkBytesPerSec() * seconds);
  }

  public ResourceTime plus(ResourceTime o) {
    return new ResourceTime(cpuMilliSeconds + o.cpuMilliSeconds, memoryByteSeconds + o.memoryByteSeconds,
        ioBytes + o.ioBytes, networkBytes + o.networkBytes);
  }

  /** Core-seconds of CPU. */
  public double coreSeconds() {
    return cpuMilliSeconds / 1000.0;
  }
}
