package dev.penumbra.failover.pg;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * The loopback ports the driver's PostgreSQL servers listen on: any free port ({@link #ANY}), or the first free one
 * of a fixed range (an operator whose firewall or monitoring expects known ports). Every server of a node (its
 * primary, standbys, replacements) takes a port of its own.
 *
 * @param first the lowest port, or 0 for any free port
 * @param last the highest port, or 0 for any free port
 */
public record PortRange(int first, int last) {

  /** Any free port the kernel hands out. */
  public static final PortRange ANY = new PortRange(0, 0);

  /** The most ports a range may span (the driver tries them one by one). */
  public static final int MAX_WIDTH = 1000;

  public PortRange {
    if (first != 0 || last != 0) {
      if (first < 1024 || last > 65535 || first > last) {
        throw new IllegalArgumentException("port range must be FIRST-LAST with 1024 <= FIRST <= LAST <= 65535, was "
            + first + "-" + last);
      }
      if (last - first + 1 > MAX_WIDTH) {
        throw new IllegalArgumentException("port range " + first + "-" + last + " spans more than " + MAX_WIDTH
            + " ports");
      }
    }
  }

  /** Whether this is {@link #ANY}. */
  public boolean any() {
    return first == 0 && last == 0;
  }

  /**
   * A port no process listens on now (on 127.0.0.1): the kernel's choice for {@link #ANY}, else the first free one of
   * the range.
   *
   * @throws IllegalStateException naming the range when every port of it is in use
   */
  public int take() throws IOException {
    if (any()) {
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        return s.getLocalPort();
      }
    }
    for (int p = first; p <= last; p++) {
      if (free(p)) {
        return p;
      }
    }
    throw new IllegalStateException("no free port in " + this + ": every port of it is in use");
  }

  /** Whether nothing listens on {@code port} of 127.0.0.1 now. */
  public static boolean free(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** {@code FIRST-LAST}, or {@code any}. */
  @Override
  public String toString() {
    return any() ? "any" : first + "-" + last;
  }
}
