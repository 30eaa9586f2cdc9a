package dev.penumbra.task;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/** A pre-started platform thread that runs one job at a time until stopped. */
final class Worker {

  private static final Runnable STOP = () -> { };
  private static final AtomicLong NUMBER = new AtomicLong();

  private final LinkedBlockingQueue<Runnable> jobs = new LinkedBlockingQueue<>();
  private final Thread thread;

  /** Starts the thread: the real cost of a grant that was not warmed. */
  Worker(String owner) {
    thread = Thread.ofPlatform()
        .daemon()
        .name("penumbra-worker-" + owner + "-" + NUMBER.incrementAndGet())
        .start(this::loop);
  }

  private void loop() {
    while (true) {
      Runnable job;
      try {
        job = jobs.take();
      } catch (InterruptedException e) {
        return;
      }
      if (job == STOP) {
        return;
      }
      job.run();
    }
  }

  void run(Runnable job) {
    jobs.add(job);
  }

  void stop() {
    jobs.add(STOP);
  }
}
