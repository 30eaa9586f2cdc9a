package dev.penumbra.eval.shard;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Alibaba v2017 {@code batch_task} format: one line per task (a functional unit of a job) with its instance
 * count (data shards), times, status and per-instance CPU (1/100 core) and memory requests. Jobs are the requests.
 * Only finished tasks (Terminated or Failed, with an end time after the creation time and a CPU request) are kept;
 * the others (Waiting, Running) are counted as skipped.
 *
 * @param jobs by arrival (earliest task creation), then job id
 * @param skipped task lines left out
 */
public record BatchTrace(List<Job> jobs, int skipped) {

  /** One task: {@code instances} data items, each lasting {@code seconds} on {@code cpuPercent}/100 cores. */
  public record Task(long jobId, long taskId, long created, long seconds, int instances, boolean failed, int cpuPercent,
      double memory) {

    /** CPU core-seconds of all its instances. */
    public double coreSeconds() {
      return (double) instances * seconds * cpuPercent / 100.0;
    }
  }

  /** A request: its tasks, arriving at the first one's creation. */
  public record Job(long id, long arrival, List<Task> tasks) {

    public long instances() {
      return tasks.stream().mapToLong(Task::instances).sum();
    }

    public double coreSeconds() {
      return tasks.stream().mapToDouble(Task::coreSeconds).sum();
    }
  }

  static final String HEADER = "task_create_time,task_end_time,job_id,task_id,number_of_instances,status,"
      + "number_of_cpus_requested_per_instance_in_the_task,normalized_memory_requested_per_instance_in_the_task";

  public static BatchTrace read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("trace file " + file + " does not exist or is not a file");
    }
    Map<Long, List<Task>> byJob = new LinkedHashMap<>();
    int skipped = 0;
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String header = r.readLine();
      if (header == null || !header.trim().replace(" ", "").equals(HEADER)) {
        throw new IllegalArgumentException(file + " line 1: expected the batch_task header '" + HEADER + "', was '"
            + header + "'");
      }
      String line;
      int n = 1;
      while ((line = r.readLine()) != null) {
        n++;
        if (line.isBlank()) {
          continue;
        }
        String[] f = line.split(",", -1);
        if (f.length != 8) {
          throw new IllegalArgumentException(file + " line " + n + ": expected 8 fields, found " + f.length + ": '" + line + "'");
        }
        String status = f[5].trim();
        if (!(status.equals("Terminated") || status.equals("Failed")) || f[1].isBlank() || f[6].isBlank()) {
          skipped++;
          continue;
        }
        long created = number(file, n, "task_create_time", f[0]);
        long end = number(file, n, "task_end_time", f[1]);
        long job = number(file, n, "job_id", f[2]);
        long task = number(file, n, "task_id", f[3]);
        long instances = number(file, n, "number_of_instances", f[4]);
        long cpu = number(file, n, "number_of_cpus_requested_per_instance_in_the_task", f[6]);
        double mem = f[7].isBlank() ? 0 : decimal(file, n, "normalized_memory_requested_per_instance_in_the_task", f[7]);
        if (end <= created || instances < 1 || cpu < 1) {
          skipped++;
          continue;
        }
        byJob.computeIfAbsent(job, k -> new ArrayList<>()).add(new Task(job, task, created, end - created,
            (int) Math.min(Integer.MAX_VALUE, instances), status.equals("Failed"), (int) cpu, mem));
      }
    }
    List<Job> jobs = new ArrayList<>();
    for (Map.Entry<Long, List<Task>> e : byJob.entrySet()) {
      List<Task> ts = e.getValue();
      ts.sort(Comparator.comparingLong(Task::taskId));
      long arrival = ts.stream().mapToLong(Task::created).min().orElseThrow();
      jobs.add(new Job(e.getKey(), arrival, List.copyOf(ts)));
    }
    jobs.sort(Comparator.comparingLong(Job::arrival).thenComparingLong(Job::id));
    return new BatchTrace(List.copyOf(jobs), skipped);
  }

  private static long number(Path file, int line, String field, String text) {
    try {
      return Long.parseLong(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(file + " line " + line + ": " + field + " must be an integer, was '" + text + "'");
    }
  }

  private static double decimal(Path file, int line, String field, String text) {
    try {
      return Double.parseDouble(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(file + " line " + line + ": " + field + " must be a number, was '" + text + "'");
    }
  }
}
