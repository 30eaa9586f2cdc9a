package dev.penumbra.eval.shard;

import dev.penumbra.shard.KeyRange;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A job of the trace as one request of the simulation: its tasks' instances laid end to end as keys
 * ({@code [offset(t), offset(t) + instances(t))} for task t), its compressed arrival, and what happened to it.
 */
final class SimJob {

  final BatchTrace.Job job;
  final String id;
  final long arrivalMillis;
  final long[] offsets;
  final long keys;
  /** The first key of every Failed task: the first attempt covering it fails half-way. */
  final Set<Long> failing = new HashSet<>();
  final List<Double> runs = new ArrayList<>();
  long keysDone;
  long finishedAt = -1;
  boolean failed;

  SimJob(BatchTrace.Job job, long arrivalMillis) {
    this.job = job;
    this.id = "j" + job.id();
    this.arrivalMillis = arrivalMillis;
    this.offsets = new long[job.tasks().size() + 1];
    for (int i = 0; i < job.tasks().size(); i++) {
      BatchTrace.Task t = job.tasks().get(i);
      offsets[i + 1] = offsets[i] + t.instances();
      if (t.failed()) {
        failing.add(offsets[i]);
      }
    }
    this.keys = offsets[offsets.length - 1];
  }

  KeyRange unitKeys(int task) {
    return KeyRange.of(offsets[task], offsets[task + 1]);
  }

  /** Milliseconds and used millicore-milliseconds of running {@code range} on {@code reservedMillicores}. */
  double[] cost(KeyRange range, long reservedMillicores) {
    double ms = 0;
    double used = 0;
    long r = Math.max(1, reservedMillicores);
    for (int i = 0; i < job.tasks().size(); i++) {
      long overlap = Math.min(range.to(), offsets[i + 1]) - Math.max(range.from(), offsets[i]);
      if (overlap <= 0) {
        continue;
      }
      BatchTrace.Task t = job.tasks().get(i);
      long cpu = t.cpuPercent() * 10L;
      // An instance lasts its trace duration on its requested CPU, longer on less; it uses what it requested.
      ms += overlap * t.seconds() * 1000.0 * Math.max(1.0, (double) cpu / r);
      used += overlap * t.seconds() * 1000.0 * cpu;
    }
    return new double[] {ms, used};
  }

  /** How many keys of {@code range} are done after {@code elapsed} ms on {@code reservedMillicores}. */
  long keysDoneAfter(KeyRange range, long reservedMillicores, double elapsed) {
    long done = 0;
    double left = elapsed;
    long r = Math.max(1, reservedMillicores);
    for (int i = 0; i < job.tasks().size() && left > 0; i++) {
      long from = Math.max(range.from(), offsets[i]);
      long to = Math.min(range.to(), offsets[i + 1]);
      if (to <= from) {
        continue;
      }
      BatchTrace.Task t = job.tasks().get(i);
      double perKey = t.seconds() * 1000.0 * Math.max(1.0, t.cpuPercent() * 10.0 / r);
      long k = Math.min(to - from, (long) Math.floor(left / perKey));
      done += k;
      left -= k * perKey;
      if (k < to - from) {
        break;
      }
    }
    return done;
  }

  /** Whether the range holds a failing key not yet used up; uses it up. */
  boolean takeFailure(KeyRange range) {
    for (Long k : failing) {
      if (range.contains(k)) {
        failing.remove(k);
        return true;
      }
    }
    return false;
  }
}
