package dev.penumbra.shard;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** The transport contract on the embedded backends. */
class InProcessTransportTest extends ShardTransportContract {

  private final Map<String, InProcessBackend> started = new HashMap<>();
  private SqlShardFunction sql;

  @TempDir
  Path temp;

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
  protected Backend startPairPool() {
    String id = ids(1).get(0);
    InProcessBackend b = InProcessBackend.of(id, CAPACITY, 2, ShardFunctions.keySum(PER_KEY));
    started.put(id, b);
    return b;
  }

  @Override
  protected Backend startSql() throws Exception {
    String id = ids(1).get(0);
    sql = new SqlShardFunction(slowSqlDatabase(temp).toString(), SLOW_SQL, "k", 1);
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
