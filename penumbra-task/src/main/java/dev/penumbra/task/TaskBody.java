package dev.penumbra.task;

/** The work of a task; it takes resources beyond its base through the {@link TaskContext}. */
@FunctionalInterface
public interface TaskBody {
  void run(TaskContext context) throws Exception;
}
