package dev.penumbra.task;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/** Channels whose bytes moved are added to a counter (a task's IO); opening and closing are the wrapped channel's. */
final class CountingChannels {

  private CountingChannels() {}

  static ReadableByteChannel reading(ReadableByteChannel channel, AtomicLong bytes) {
    return new Reading(Objects.requireNonNull(channel, "channel"), bytes);
  }

  static WritableByteChannel writing(WritableByteChannel channel, AtomicLong bytes) {
    return new Writing(Objects.requireNonNull(channel, "channel"), bytes);
  }

  private abstract static class Counting<C extends Channel> implements Channel {
    final C channel;
    private final AtomicLong bytes;

    Counting(C channel, AtomicLong bytes) {
      this.channel = channel;
      this.bytes = bytes;
    }

    /** {@code n} bytes moved (-1 at the end of a stream: nothing). */
    final int counted(int n) {
      if (n > 0) {
        bytes.addAndGet(n);
      }
      return n;
    }

    @Override
    public final boolean isOpen() {
      return channel.isOpen();
    }

    @Override
    public final void close() throws IOException {
      channel.close();
    }
  }

  private static final class Reading extends Counting<ReadableByteChannel> implements ReadableByteChannel {
    Reading(ReadableByteChannel channel, AtomicLong bytes) {
      super(channel, bytes);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return counted(channel.read(dst));
    }
  }

  private static final class Writing extends Counting<WritableByteChannel> implements WritableByteChannel {
    Writing(WritableByteChannel channel, AtomicLong bytes) {
      super(channel, bytes);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return counted(channel.write(src));
    }
  }
}
