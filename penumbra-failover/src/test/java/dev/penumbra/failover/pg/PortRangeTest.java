package dev.penumbra.failover.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** The ports the driver's servers listen on: a port in use is skipped; a range with none free fails naming it. */
class PortRangeTest {

  @Test
  void takesTheFirstFreePortOfTheRangeAndNamesTheRangeWhenNoneIsFree() throws Exception {
    try (ServerSocket a = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int p = a.getLocalPort();
      assertThat(PortRange.free(p)).isFalse();
      assertThatThrownBy(() -> new PortRange(p, p).take()).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(p + "-" + p).hasMessageContaining("in use");
      if (p < 65535 && PortRange.free(p + 1)) {
        assertThat(new PortRange(p, p + 1).take()).isEqualTo(p + 1);
      }
    }
    assertThat(PortRange.ANY.any()).isTrue();
    assertThat(PortRange.ANY.take()).isPositive();
    assertThat(PortRange.ANY).hasToString("any");
  }

  @Test
  void badRangesAreRefusedNamingThem() {
    assertThatThrownBy(() -> new PortRange(80, 90)).hasMessageContaining("80-90");
    assertThatThrownBy(() -> new PortRange(6000, 5000)).hasMessageContaining("6000-5000");
    assertThatThrownBy(() -> new PortRange(2000, 70000)).hasMessageContaining("2000-70000");
    assertThatThrownBy(() -> new PortRange(2000, 4000)).hasMessageContaining("more than 1000");
  }
}
