package dev.penumbra.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The task context's channel wrappers count what moved, not the end of a stream, and close what they wrap. */
class CountingChannelsTest {

  @Test
  void readingCountsTheBytesReadAndNotTheEnd() throws Exception {
    AtomicLong io = new AtomicLong();
    ReadableByteChannel in = Channels.newChannel(new ByteArrayInputStream(new byte[1000]));
    ReadableByteChannel counted = CountingChannels.reading(in, io);
    ByteBuffer buf = ByteBuffer.allocate(300);
    int total = 0;
    for (int n; (n = counted.read(buf.clear())) >= 0; ) {
      total += n;
    }
    assertThat(total).isEqualTo(1000);
    assertThat(io.get()).isEqualTo(1000);
    assertThat(counted.isOpen()).isTrue();
    counted.close();
    assertThat(in.isOpen()).isFalse();
    assertThat(counted.isOpen()).isFalse();
  }

  @Test
  void writingCountsTheBytesWrittenIntoTheSameCounter() throws Exception {
    AtomicLong io = new AtomicLong(5);
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    WritableByteChannel out = Channels.newChannel(sink);
    try (WritableByteChannel counted = CountingChannels.writing(out, io)) {
      counted.write(ByteBuffer.wrap(new byte[70]));
      counted.write(ByteBuffer.allocate(0));
    }
    assertThat(sink.size()).isEqualTo(70);
    assertThat(io.get()).isEqualTo(75);
    assertThat(out.isOpen()).isFalse();
  }

  @Test
  void aMissingChannelIsNamed() {
    assertThatThrownBy(() -> CountingChannels.reading(null, new AtomicLong())).hasMessageContaining("channel");
    assertThatThrownBy(() -> CountingChannels.writing(null, new AtomicLong())).hasMessageContaining("channel");
  }
}
