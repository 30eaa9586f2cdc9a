package dev.penumbra.shard.kafka;

import java.time.Duration;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A consumer read on a daemon thread of its own until closed, each record handed to a handler: the engine's results
 * reader and a worker's cancel listener. Also the client settings both sides share (text keys and values, offsets
 * committed by hand, every write acknowledged by all replicas and sent at once).
 */
final class TopicReader implements AutoCloseable {

  private final KafkaConsumer<String, String> consumer;
  private final Thread thread;
  private final Duration closeWait;
  private volatile boolean closed;

  /**
   * Starts reading {@code consumer} (assigned and positioned by the caller) every {@code poll}.
   *
   * @param closeWait how long {@link #close} waits for the thread, then for the consumer
   */
  TopicReader(KafkaConsumer<String, String> consumer, String threadName, Duration poll, Duration closeWait,
      Consumer<ConsumerRecord<String, String>> handler) {
    this.consumer = consumer;
    this.closeWait = closeWait;
    this.thread = new Thread(() -> {
      try {
        while (!closed) {
          for (ConsumerRecord<String, String> rec : consumer.poll(poll)) {
            handler.accept(rec);
          }
        }
      } catch (WakeupException stop) {
        // Closing.
      }
    }, threadName);
    thread.setDaemon(true);
    thread.start();
  }

  /** A consumer of text records that commits nothing by itself; the caller adds what is its own. */
  static Properties consumerConfig(String bootstrap) {
    Properties cp = new Properties();
    cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    return cp;
  }

  /** A producer of text records, each acknowledged by every in-sync replica and sent without lingering. */
  static Properties producerConfig(String bootstrap) {
    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    pp.put(ProducerConfig.ACKS_CONFIG, "all");
    pp.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    return pp;
  }

  /** Stops the thread (waking a poll in progress) and closes the consumer. */
  @Override
  public void close() {
    closed = true;
    consumer.wakeup();
    try {
      thread.join(closeWait.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    consumer.close(closeWait);
  }
}
