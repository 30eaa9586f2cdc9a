package dev.penumbra.shard;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;

/** The transport contract on the embedded backends. */
class InProcessTransportTest extends ShardTransportContract {

  private final Map<String, InProcessBackend> started = new HashMap<>();
  private SqlShardFunction sql;

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
  protected Backend startSql(String id, Path database) throws Exception {
    sql = new SqlShardFunction(database.toString(), SLOW_SQL, "k", 1);
    InProcessBackend b = InProcessBackend.of(id, CAPACITY, 1, sql);
    started.put(id, b);
    return b;
  }

  @Override
  protected boolean busy(String id) {
    return started.get(id).utilization().values().stream().anyMatch(u -> u > 0);
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
  void stop() throws Exception {
    started.values().forEach(InProcessBackend::close);
    if (sql != null) {
      // Interrupted in DuckDB, not only on the Java side.
      assertThat(sql.interrupted()).isEqualTo(1);
      sql.close();
    }
  }
}
