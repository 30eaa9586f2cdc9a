package dev.penumbra.eval.task;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.task.MemoryLease;
import dev.penumbra.task.PrefetchHook;
import dev.penumbra.task.TaskBody;
import dev.penumbra.task.TaskSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The phased tasks of {@code penumbra bench task}: three types with different profiles, some tasks deviating
 * from their type. Every phase is sequential (a stall delays everything after it), and the plan is fixed by
 * the seed so every mode runs the same tasks.
 *
 * <ul>
 *   <li>{@code ramp}: memory ramps up in 4 steps of 6 MiB, 40 ms apart (light CPU between), then 40 ms more;
 *       deviants take 12 MiB steps.
 *   <li>{@code burst}: 8 MiB at start, then two CPU bursts on 2 worker threads (8 ms of computation each)
 *       60 ms apart; deviants burst on 4 threads.
 *   <li>{@code io}: reads 4 MiB of a file through a counting channel (with 30 ms of processing), then takes 24
 *       MiB for 60 ms to hold its results; its prefetch hook reads the file ahead. Deviants take the 24 MiB
 *       right away, before reading.
 * </ul>
 */
final class TaskWorkload {

  static final long MIB = 1L << 20;
  static final String[] TYPES = {"ramp", "burst", "io"};
  static final double DEVIANT_SHARE = 0.15;

  /** One task of the plan. */
  record Plan(int index, String type, boolean deviant) {}

  private final Path file;

  TaskWorkload(Path dir) {
    try {
      file = dir.resolve("penumbra-bench-task.dat");
      byte[] chunk = new byte[1 << 16];
      new SplittableRandom(1).nextBytes(chunk);
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        for (int i = 0; i < 64; i++) {
          ch.write(ByteBuffer.wrap(chunk));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the IO phase's file in " + dir, e);
    }
  }

  void delete() {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // A temporary file left behind is harmless.
    }
  }

  static List<Plan> plan(int tasks, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<Plan> plans = new ArrayList<>(tasks);
    for (int i = 0; i < tasks; i++) {
      plans.add(new Plan(i, TYPES[rnd.nextInt(TYPES.length)], rnd.nextDouble() < DEVIANT_SHARE));
    }
    return plans;
  }

  /** What the static baseline gives each task of a type at admission: the type's nominal peak. */
  static Resources staticBase(String type) {
    return switch (type) {
      case "ramp" -> Resources.memory(24 * MIB);
      case "burst" -> Resources.of(2000, 8 * MIB);
      case "io" -> Resources.memory(24 * MIB);
      default -> throw new IllegalArgumentException("task type '" + type + "' is not in the workload");
    };
  }

  /** The most a task of the plan takes at once (deviants included): what static allocation would miss for it. */
  static Resources peak(Plan p) {
    return switch (p.type()) {
      case "ramp" -> Resources.memory((p.deviant() ? 48 : 24) * MIB);
      case "burst" -> Resources.of((p.deviant() ? 4000 : 2000), 8 * MIB);
      case "io" -> Resources.memory(24 * MIB);
      default -> throw new IllegalArgumentException("task type '" + p.type() + "' is not in the workload");
    };
  }

  TaskSpec spec(Plan p, Priority priority, boolean staticBase, boolean prefetch) {
    TaskSpec spec = TaskSpec.of(p.type(), priority);
    if (staticBase) {
      spec = spec.withBase(staticBase(p.type()));
    }
    if (prefetch && p.type().equals("io")) {
      spec = spec.withPrefetch(readAhead());
    }
    return spec;
  }

  private PrefetchHook readAhead() {
    return (id, predicted) -> {
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        while (ch.read(buf) > 0) {
          buf.clear();
        }
      }
    };
  }

  TaskBody body(Plan p) {
    return switch (p.type()) {
      case "ramp" -> ctx -> {
        long step = (p.deviant() ? 12 : 6) * MIB;
        List<MemoryLease> held = new ArrayList<>();
        try {
          for (int i = 0; i < 4; i++) {
            held.add(ctx.memory(step));
            spin(2);
            // The workload's phases are timed by design: sleeping is the task's idle time between allocations.
            Thread.sleep(38);
          }
          Thread.sleep(40);
        } finally {
          held.forEach(MemoryLease::close);
        }
      };
      case "burst" -> ctx -> {
        int threads = p.deviant() ? 4 : 2;
        try (MemoryLease m = ctx.memory(8 * MIB)) {
          m.block(0)[0]++;
          Thread.sleep(30);
          ctx.parallel(threads, () -> spin(8));
          Thread.sleep(60);
          ctx.parallel(threads, () -> spin(8));
          Thread.sleep(30);
        }
      };
      case "io" -> ctx -> {
        MemoryLease early = p.deviant() ? ctx.memory(24 * MIB) : null;
        try (ReadableByteChannel ch = ctx.reading(FileChannel.open(file, StandardOpenOption.READ))) {
          ByteBuffer buf = ByteBuffer.allocate(1 << 16);
          int chunks = 0;
          while (ch.read(buf) > 0) {
            buf.clear();
            if (++chunks % 16 == 0) {
              Thread.sleep(8);
            }
          }
        }
        try (MemoryLease m = early != null ? early : ctx.memory(24 * MIB)) {
          m.block(m.blocks() - 1)[0]++;
          spin(2);
          Thread.sleep(58);
        }
      };
      default -> throw new IllegalArgumentException("task type '" + p.type() + "' is not in the workload");
    };
  }

  /** Computes for about {@code millis} of this thread's time (wall time on an idle core). */
  static void spin(long millis) {
    long end = System.nanoTime() + millis * 1_000_000;
    double x = 1;
    while (System.nanoTime() < end) {
      for (int i = 0; i < 1000; i++) {
        x = Math.sqrt(x + i);
      }
    }
    if (x < 0) {
      throw new AssertionError();
    }
  }
}
