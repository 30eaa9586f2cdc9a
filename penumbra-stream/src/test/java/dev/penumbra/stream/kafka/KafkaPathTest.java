package dev.penumbra.stream.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.KafkaBroker;
import dev.penumbra.stream.EmbeddedStream;
import dev.penumbra.stream.Sampling;
import dev.penumbra.stream.Shadow;
import dev.penumbra.stream.StreamRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** The Kafka path end to end against a real in-process KRaft broker. */
class KafkaPathTest {

  @Test
  @SuppressWarnings("try") // the broker's close() may throw InterruptedException
  void producerSideShadowAndManagedWorkersEndToEnd() throws Exception {
    try (KafkaBroker cluster = KafkaBroker.start()) {
      String bootstrap = cluster.bootstrapServers();
      try (Admin admin = cluster.admin()) {
        admin.createTopics(List.of(new NewTopic("orders", 2, (short) 1), new NewTopic("orders.shadow", 2, (short) 1)))
            .all().get();
      }

      // Producer with the shadow interceptor: keyed 20% sample to orders.shadow.
      Properties pp = new Properties();
      pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
      pp.put(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG, ShadowSamplingInterceptor.class.getName());
      pp.put(ProducerConfig.LINGER_MS_CONFIG, "5");
      pp.put(ShadowSamplingInterceptor.RATE, "0.2");
      pp.put(ShadowSamplingInterceptor.SAMPLING, "keyed");
      int keys = 100;
      int perKey = 20;
      int expectedShadow = 0;
      for (int k = 0; k < keys; k++) {
        expectedShadow += Sampling.keyedTakes("key" + k, 0.2, 0) ? perKey : 0;
      }
      try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(pp)) {
        for (int s = 0; s < perKey; s++) {
          for (int k = 0; k < keys; k++) {
            producer.send(new ProducerRecord<>("orders", "key" + k, Integer.toString(s).getBytes(StandardCharsets.UTF_8)));
          }
        }
        producer.flush();
      }
      ShadowSamplingInterceptor interceptor = ShadowSamplingInterceptor.lastConfigured();
      assertThat(interceptor.sampled()).isEqualTo(expectedShadow);
      assertThat(interceptor.sent()).isEqualTo(expectedShadow);
      assertThat(interceptor.dropped()).isZero();

      // Primary: consumed into the embedded runtime (2 partitions, scaled while running).
      Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
      Set<Integer> partitionsSeen = ConcurrentHashMap.newKeySet();
      try (EmbeddedStream stream = EmbeddedStream.builder(2, r -> {
        partitionsSeen.add(r.partition());
        seen.computeIfAbsent(r.key(), x -> Collections.synchronizedList(new ArrayList<>()))
            .add(Integer.parseInt(new String(r.value(), StandardCharsets.UTF_8)));
      }).initialWorkers(1).maxWorkers(4).build();
          Shadow shadow = Shadow.start("orders", r -> Integer.parseInt(new String(r.value(), StandardCharsets.UTF_8)),
              10_000)) {
        KafkaSource primary = KafkaSource.start(bootstrap, "penumbra-primary", "orders", new Properties(),
            stream::submit, () -> {
              try {
                stream.awaitIdle(Duration.ofSeconds(10));
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
        KafkaSource shadowSource = KafkaSource.start(bootstrap, "penumbra-shadow", "orders.shadow", new Properties(),
            r -> shadow.offer(r), null);
        stream.scale(0, 3);
        stream.scale(1, 2);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while ((primary.consumed() < keys * perKey || shadowSource.consumed() < expectedShadow)
            && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        stream.scale(0, 1);
        assertThat(stream.awaitIdle(Duration.ofSeconds(10))).isTrue();
        assertThat(shadow.awaitIdle(Duration.ofSeconds(10))).isTrue();
        primary.close();
        shadowSource.close();
        assertThat(primary.failure()).isNull();
        assertThat(primary.consumed()).isEqualTo(keys * perKey);
        assertThat(shadowSource.consumed()).isEqualTo(expectedShadow);
        assertThat(stream.stats(0).processed() + stream.stats(1).processed()).isEqualTo(keys * perKey);
        assertThat(partitionsSeen).containsExactlyInAnyOrder(0, 1);
        long shadowProcessed = shadow.stats(0).processed() + shadow.stats(1).processed();
        assertThat(shadowProcessed).isEqualTo(expectedShadow);
        // A keyed record lands on the same partition number in the shadow topic as in the primary.
        assertThat(shadow.stats(0).processed() + shadow.stats(1).processed()).isPositive();
      }
      List<Integer> order = new ArrayList<>();
      for (int s = 0; s < perKey; s++) {
        order.add(s);
      }
      assertThat(seen).hasSize(keys);
      seen.forEach((k, v) -> assertThat(v).as("key %s once each, in order", k).isEqualTo(order));
    }
  }

  @Test
  void badInterceptorConfigurationIsRejected() {
    assertThatThrownBy(() -> ShadowSamplingInterceptor.sampling(Map.of(ShadowSamplingInterceptor.RATE, "1.5")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("sampling rate must be in (0, 1], was 1.5");
    assertThatThrownBy(() -> ShadowSamplingInterceptor.sampling(Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("penumbra.shadow.rate");
    assertThatThrownBy(() -> ShadowSamplingInterceptor.sampling(Map.of(ShadowSamplingInterceptor.RATE, "0.1",
        ShadowSamplingInterceptor.SAMPLING, "reservoir"))).hasMessageContaining("'reservoir'");
    assertThat(ShadowSamplingInterceptor.sampling(Map.of(ShadowSamplingInterceptor.RATE, "0.05")))
        .isEqualTo(Sampling.everyNth(0.05));
  }
}
