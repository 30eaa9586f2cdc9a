package dev.penumbra.stream.kafka;

import dev.penumbra.stream.Sampling;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigException;

/**
 * A producer-side shadow sampler: add it to a producer's {@code interceptor.classes} and a sample of what the
 * producer sends goes, unchanged (key, value, headers, explicit partition), to a shadow topic.
 *
 * <p>Isolation: {@link #onSend} only decides and enqueues a reference into a bounded buffer; a thread of its
 * own sends the buffer with a producer of its own. A full buffer drops the record and counts it
 * ({@link #dropped()}); a failed shadow send is counted ({@link #failed()}). The primary send is never delayed
 * by more than the sampling decision, and never fails because of the shadow.
 *
 * <p>Configuration (in the producer's properties, next to its own):
 * <ul>
 *   <li>{@code penumbra.shadow.rate} — share in (0, 1], required;
 *   <li>{@code penumbra.shadow.sampling} — {@code every-nth} (default), {@code bernoulli} or {@code keyed};
 *   <li>{@code penumbra.shadow.seed} — seed of bernoulli and keyed (default 0);
 *   <li>{@code penumbra.shadow.suffix} — shadow topic = primary topic + suffix (default {@code .shadow});
 *   <li>{@code penumbra.shadow.buffer} — buffer capacity in records (default 10000).
 * </ul>
 * The shadow topic must have the primary's partition count: the default partitioner then puts a keyed record
 * on the same partition number, so per-partition rates carry over.
 */
public final class ShadowSamplingInterceptor implements ProducerInterceptor<Object, Object> {

  public static final String RATE = "penumbra.shadow.rate";
  public static final String SAMPLING = "penumbra.shadow.sampling";
  public static final String SEED = "penumbra.shadow.seed";
  public static final String SUFFIX = "penumbra.shadow.suffix";
  public static final String BUFFER = "penumbra.shadow.buffer";

  private static final ProducerRecord<Object, Object> STOP = new ProducerRecord<>("stop", null);

  private Sampling.Sampler sampler;
  private String suffix;
  private ArrayBlockingQueue<ProducerRecord<Object, Object>> buffer;
  private KafkaProducer<Object, Object> producer;
  private Thread sender;
  private final AtomicLong sampled = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong sent = new AtomicLong();

  // Counters of the last configured instance, for tests and metrics (the producer owns the instance).
  private static volatile ShadowSamplingInterceptor last;

  @Override
  public void configure(Map<String, ?> configs) {
    Sampling sampling = sampling(configs);
    this.sampler = sampling.sampler(0);
    this.suffix = text(configs, SUFFIX, ".shadow");
    if (suffix.isEmpty()) {
      throw new ConfigException(SUFFIX, suffix, "must not be empty (the shadow would be the primary topic)");
    }
    int capacity = integer(configs, BUFFER, 10_000);
    if (capacity < 1) {
      throw new ConfigException(BUFFER, capacity, "must be >= 1");
    }
    this.buffer = new ArrayBlockingQueue<>(capacity);
    Map<String, Object> own = new HashMap<>(configs);
    own.remove(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG);
    own.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
    Object clientId = configs.get(ProducerConfig.CLIENT_ID_CONFIG);
    own.put(ProducerConfig.CLIENT_ID_CONFIG, (clientId == null ? "producer" : clientId) + "-penumbra-shadow");
    this.producer = new KafkaProducer<>(own);
    this.sender = Thread.ofPlatform().daemon().name("penumbra-shadow-sender").start(this::send);
    last = this;
  }

  /** Reads and validates the sampling settings. */
  static Sampling sampling(Map<String, ?> configs) {
    Object rate = configs.get(RATE);
    if (rate == null) {
      throw new ConfigException(RATE, null, "is required, a share in (0, 1]");
    }
    double r;
    try {
      r = Double.parseDouble(rate.toString().trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(RATE, rate, "is not a number");
    }
    long seed;
    try {
      seed = Long.parseLong(text(configs, SEED, "0"));
    } catch (NumberFormatException e) {
      throw new ConfigException(SEED, configs.get(SEED), "is not an integer");
    }
    try {
      return new Sampling(Sampling.Mode.parse(text(configs, SAMPLING, "every-nth")), r, seed);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  @Override
  public ProducerRecord<Object, Object> onSend(ProducerRecord<Object, Object> record) {
    boolean take;
    synchronized (this) {
      take = sampler.test(record.key() == null ? null : record.key().toString());
    }
    if (take) {
      sampled.incrementAndGet();
      ProducerRecord<Object, Object> copy = new ProducerRecord<>(record.topic() + suffix, record.partition(),
          record.timestamp(), record.key(), record.value(), record.headers());
      if (!buffer.offer(copy)) {
        dropped.incrementAndGet();
      }
    }
    return record;
  }

  @Override
  public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
    // Nothing: the sample is taken at send time.
  }

  @Override
  public void close() {
    if (sender == null) {
      return;
    }
    if (!buffer.offer(STOP)) {
      sender.interrupt();
    }
    try {
      sender.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(java.time.Duration.ofSeconds(5));
  }

  private void send() {
    while (true) {
      ProducerRecord<Object, Object> r;
      try {
        r = buffer.poll(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        return;
      }
      if (r == STOP) {
        producer.flush();
        return;
      }
      if (r == null) {
        continue;
      }
      try {
        producer.send(r, (md, ex) -> {
          if (ex == null) {
            sent.incrementAndGet();
          } else {
            failed.incrementAndGet();
          }
        });
      } catch (RuntimeException e) {
        failed.incrementAndGet();
      }
    }
  }

  /** Records taken into the sample. */
  public long sampled() {
    return sampled.get();
  }

  /** Sampled records dropped because the buffer was full. */
  public long dropped() {
    return dropped.get();
  }

  /** Shadow sends that failed. */
  public long failed() {
    return failed.get();
  }

  /** Shadow sends acknowledged. */
  public long sent() {
    return sent.get();
  }

  /** The most recently configured interceptor of this JVM (the producer creates and owns it). */
  public static ShadowSamplingInterceptor lastConfigured() {
    return last;
  }

  private static String text(Map<String, ?> configs, String key, String dflt) {
    Object v = configs.get(key);
    return v == null ? dflt : v.toString().trim();
  }

  private static int integer(Map<String, ?> configs, String key, int dflt) {
    Object v = configs.get(key);
    if (v == null) {
      return dflt;
    }
    try {
      return Integer.parseInt(v.toString().trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(key, v, "is not an integer");
    }
  }
}
