package dev.penumbra.server;

import dev.penumbra.stream.StreamRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The demo's stream: one batch per demo step to the stream {@value #NAME} (created on first use), at a rate that
 * follows a compressed day (one period every two minutes, a night trough and a day peak) with occasional bursts,
 * so the planner sees a seasonal series with spikes. The batch is what that rate gives over the demo's pause.
 */
final class StreamDemo {
  static final String NAME = "demo";

  private StreamDemo() {}

  static void step(StreamCapability streams, ServerConfig config, Random random) throws InterruptedException {
    StreamHandle h = streams.find(NAME);
    if (h == null) {
      try {
        // A demo stream uses a few millicores: one partition is plenty, two show the per-partition plan.
        int partitions = config.ledger().capacity().cpuMillis() >= 6000 ? 2 : 1;
        h = streams.create(new StreamRoutes.NewStream(NAME, partitions, 0.1));
      } catch (ApiException e) {
        if (e.status() != 409) {
          throw e;
        }
        h = streams.handle(NAME);
      }
    }
    double rate = rate(System.currentTimeMillis(), random);
    double seconds = Math.max(0.05, config.demo().pause().toMillis() / 1000.0);
    int n = (int) Math.max(1, Math.round(rate * seconds / config.demo().clients()));
    List<StreamRecord> batch = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String key = "user-" + random.nextInt(500);
      byte[] value = "x".repeat(16 + random.nextInt(240)).getBytes(StandardCharsets.UTF_8);
      batch.add(new StreamRecord(Math.floorMod(key.hashCode(), h.partitions()), key, value));
    }
    try {
      streams.produce(h, batch);
    } catch (ApiException e) {
      if (e.status() != 503) {
        throw e;
      }
    }
  }

  /** Records per second at {@code millis}: 40 at night to 400 at midday of a 2-minute day, bursts x3. */
  static double rate(long millis, Random random) {
    double phase = (millis % 120_000) / 120_000.0;
    double day = 220 - 180 * Math.cos(2 * Math.PI * phase);
    return random.nextDouble() < 0.05 ? day * 3 : day;
  }
}
