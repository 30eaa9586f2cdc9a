package dev.penumbra.shard;

import dev.penumbra.shard.kafka.ShardWorker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A {@link ShardWorker} process started in advance that joins its pool only once its gate file exists: a test that
 * restarts a killed worker opens the gate instead of waiting for a JVM to boot (seconds on a loaded machine). Until
 * then it has loaded the worker's classes and touched no topic.
 *
 * <pre>java -cp CLASSPATH dev.penumbra.shard.GatedWorker GATE_FILE [ShardWorker's options]</pre>
 */
final class GatedWorker {

  private GatedWorker() {}

  public static void main(String[] args) throws Exception {
    Path gate = Path.of(args[0]);
    // Loaded now, so that opening the gate costs only the connection to the broker.
    for (String c : new String[] {"org.apache.kafka.clients.consumer.KafkaConsumer",
        "org.apache.kafka.clients.producer.KafkaProducer", "org.apache.kafka.clients.admin.Admin",
        "dev.penumbra.shard.kafka.Wire", "com.fasterxml.jackson.databind.ObjectMapper"}) {
      Class.forName(c);
    }
    long until = System.nanoTime() + 600_000_000_000L;
    while (!Files.exists(gate)) {
      if (System.nanoTime() > until) {
        System.err.println("gated worker: gate " + gate + " never opened; exiting");
        System.exit(3);
      }
      Thread.sleep(10);
    }
    ShardWorker.main(Arrays.copyOfRange(args, 1, args.length));
  }
}
