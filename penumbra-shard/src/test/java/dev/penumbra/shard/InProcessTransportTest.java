package dev.penumbra.shard;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;

/** The transport contract on the embedded backends. */
class InProcessTransportTest extends ShardTransportContract {

  private final Map<String, InProcessBackend> started = new HashMap<>();

  @Override
  protected List<Backend> start(List<String> ids) {
    List<Backend> out = new ArrayList<>();
    for (String id : ids) {
      InProcessBackend b = InProcessBackend.of(id, CAPACITY, 1, ShardFunctions.keySum(PER_KEY));
      started.put(id, b);
      out.add(b);
    }
    return out;
  }

  @Override
  protected Backend startPool(String id, int workers) {
    InProcessBackend b = InProcessBackend.of(id, CAPACITY, workers, ShardFunctions.keySum(PER_KEY));
    started.put(id, b);
    return b;
  }

  @Override
  protected long cancelledOnBackends() {
    return started.values().stream().mapToLong(InProcessBackend::cancelled).sum();
  }

  @Override
  protected void crash(String id) {
    started.get(id).kill();
  }

  @AfterEach
  void stop() {
    started.values().forEach(InProcessBackend::close);
  }
}
