package dev.penumbra.task;

/** Memory a task holds: whole blocks of the pool, pre-touched. Closing gives them back to the task's pool. */
public interface MemoryLease extends AutoCloseable {

  /** The bytes held (whole blocks). */
  long bytes();

  int blocks();

  /** Block {@code i} (0 .. blocks-1). */
  byte[] block(int i);

  /** Gives the blocks back; later calls do nothing. */
  @Override
  void close();
}
