package dev.penumbra.stream.kafka;

import dev.penumbra.stream.StreamRecord;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Consumes a topic on a thread of its own and hands each record, as a {@link StreamRecord} of the same
 * partition, to a handler: for the primary topic {@code EmbeddedStream::submit} (Penumbra-managed workers), for
 * the shadow topic {@code Shadow::offer}.
 *
 * <p>Offsets are committed after each polled batch has been handed over and {@code beforeCommit} has returned
 * (for the embedded runtime: {@code stream.awaitIdle}), so a committed record has been processed: at-least-once
 * across restarts, exactly once within a run.
 */
public final class KafkaSource implements AutoCloseable {

  /** Receives one record; may block (back-pressure reaches the consumer, which simply polls later). */
  @FunctionalInterface
  public interface Handler {
    void accept(StreamRecord record) throws InterruptedException;
  }

  private final KafkaConsumer<String, byte[]> consumer;
  private final Handler handler;
  private final Runnable beforeCommit;
  private final Thread thread;
  private final AtomicLong consumed = new AtomicLong();
  private volatile boolean running = true;
  private volatile Throwable failure;

  private KafkaSource(Properties props, List<String> topics, Handler handler, Runnable beforeCommit) {
    this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    this.handler = handler;
    this.beforeCommit = beforeCommit;
    consumer.subscribe(topics);
    this.thread = Thread.ofPlatform().daemon().name("penumbra-kafka-source-" + topics).unstarted(this::loop);
  }

  /**
   * Starts consuming {@code topic} as member of {@code group}.
   *
   * @param consumerProps further consumer settings (e.g. {@code auto.offset.reset}); may be empty
   */
  public static KafkaSource start(String bootstrap, String group, String topic, Properties consumerProps,
      Handler handler, Runnable beforeCommit) {
    if (topic == null || topic.isBlank()) {
      throw new IllegalArgumentException("topic must not be blank, was '" + topic + "'");
    }
    if (handler == null) {
      throw new IllegalArgumentException("handler is missing");
    }
    Properties p = new Properties();
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.putAll(consumerProps);
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    KafkaSource s = new KafkaSource(p, List.of(topic), handler, beforeCommit == null ? () -> { } : beforeCommit);
    s.thread.start();
    return s;
  }

  /** Records handed to the handler so far. */
  public long consumed() {
    return consumed.get();
  }

  /** What stopped the loop, if it failed. */
  public Throwable failure() {
    return failure;
  }

  private void loop() {
    try {
      while (running) {
        ConsumerRecords<String, byte[]> batch = consumer.poll(Duration.ofMillis(100));
        for (ConsumerRecord<String, byte[]> r : batch) {
          handler.accept(new StreamRecord(r.partition(), r.key(), r.value()));
          consumed.incrementAndGet();
        }
        if (!batch.isEmpty()) {
          beforeCommit.run();
          consumer.commitSync();
        }
      }
    } catch (WakeupException | InterruptedException e) {
      // closing
    } catch (RuntimeException e) {
      failure = e;
    } finally {
      consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    }
  }

  /** Stops polling and waits (up to 15 s) for the consumer to close; keeps an interrupt flag set. */
  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(15_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
