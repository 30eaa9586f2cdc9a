package dev.penumbra.eval.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardSimulationTest {

  @TempDir
  Path dir;

  /** A synthetic batch_task file: jobs of a heavy and several light tasks, some failed. */
  static Path trace(Path dir, int jobs, long seed) throws Exception {
    Random r = new Random(seed);
    StringBuilder sb = new StringBuilder(BatchTrace.HEADER).append('\n');
    long task = 1;
    for (int j = 1; j <= jobs; j++) {
      long t0 = j * 100L;
      int tasks = 1 + r.nextInt(5);
      for (int i = 0; i < tasks; i++) {
        boolean heavy = i == 0;
        long seconds = heavy ? 200 + r.nextInt(100) : 5 + r.nextInt(10);
        int instances = heavy ? 20 + r.nextInt(20) : 40 + r.nextInt(60);
        String status = r.nextInt(30) == 0 ? "Failed" : "Terminated";
        sb.append(t0).append(',').append(t0 + seconds).append(',').append(j).append(',').append(task++).append(',')
            .append(instances).append(',').append(status).append(',').append(heavy ? 100 : 50).append(",0.01\n");
      }
    }
    sb.append("10,,999,99999,5,Waiting,,\n");
    Path f = dir.resolve("batch_task.csv");
    Files.writeString(f, sb.toString());
    return f;
  }

  private ShardBench.Options options(Path trace, boolean kill) {
    return new ShardBench.Options(trace, List.of(0.8), 4, 16, 8, 32, 60, kill, dir, 0, 5_000_000);
  }

  @Test
  void everyPolicyCompletesEveryJobWithEveryKeyOnceUnderInjectedFailures() throws Exception {
    Path f = trace(dir, 120, 7);
    BatchTrace t = BatchTrace.read(f);
    assertThat(t.skipped()).isEqualTo(1);
    List<BatchTrace.Job> scored = t.jobs().subList(60, 120);
    ShardSimulation.Setup s = ShardBench.setup(options(f, true), scored, 0.8, Duration.ofSeconds(1), 8,
        ShardBench.profiles(t.jobs().subList(0, 60)), true);
    List<ShardSimulation.Result> rs = new ArrayList<>();
    for (String p : ShardSimulation.POLICIES) {
      ShardSimulation.Result r = new ShardSimulation(s, p, 0.8).run();
      rs.add(r);
      assertThat(r.complete()).as(p).isTrue();
      assertThat(r.completed()).as(p).isEqualTo(60);
      assertThat(r.keysLost() + r.keysDuplicated()).as(p).isZero();
      assertThat(r.injectedFailures()).as(p).isPositive();
      assertThat(r.reservedCoreSeconds()).as(p).isGreaterThanOrEqualTo(r.usedCoreSeconds() * 0.999);
    }
    ShardSimulation.Result none = rs.get(0);
    ShardSimulation.Result penumbra = rs.get(3);
    // Cutting the heavy task finer than the light ones beats one task per job.
    assertThat(penumbra.p99Seconds()).isLessThan(none.p99Seconds());
    assertThat(penumbra.lostAttempts()).isPositive();
  }

  @Test
  void everyPolicyRepeatsExactlyRunToRun() throws Exception {
    Path f = trace(dir, 120, 11);
    BatchTrace t = BatchTrace.read(f);
    List<BatchTrace.Job> scored = t.jobs().subList(60, 120);
    ShardSimulation.Setup s = ShardBench.setup(options(f, true), scored, 1.0, Duration.ofSeconds(1), 8,
        ShardBench.profiles(t.jobs().subList(0, 60)), true);
    for (String p : ShardSimulation.POLICIES) {
      ShardSimulation.Result a = new ShardSimulation(s, p, 1.0).run();
      ShardSimulation.Result b = new ShardSimulation(s, p, 1.0).run();
      // Everything but the wall time of the run (compared as text: NaN straggler ratios equal themselves there).
      assertThat(withoutWall(b)).as(p).isEqualTo(withoutWall(a));
    }
  }

  private static String withoutWall(ShardSimulation.Result r) {
    return r.toString().replaceAll("wallSeconds=[^,\\]]*", "");
  }

  @Test
  void badTraceInputNamesTheLineAndField() throws Exception {
    Path f = dir.resolve("bad.csv");
    Files.writeString(f, BatchTrace.HEADER + "\n1,5,1,1,x,Terminated,50,0.1\n");
    assertThatThrownBy(() -> BatchTrace.read(f)).hasMessageContaining("line 2: number_of_instances must be an integer, was 'x'");
    Files.writeString(f, "a,b\n");
    assertThatThrownBy(() -> BatchTrace.read(f)).hasMessageContaining("line 1: expected the batch_task header");
    assertThatThrownBy(() -> BatchTrace.read(dir.resolve("none.csv"))).hasMessageContaining("does not exist");
    assertThatThrownBy(() -> new ShardBench.Options(f, List.of(0.0), 4, 16, 8, 32, 60, false, dir, 0, 1))
        .hasMessageContaining("load must be in (0, 10], was 0.0");
  }
}
