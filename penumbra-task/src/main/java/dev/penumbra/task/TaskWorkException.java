package dev.penumbra.task;

/** Work passed to {@link TaskContext#parallel} threw on a worker thread. */
public class TaskWorkException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TaskWorkException(String message, Throwable cause) {
    super(message, cause);
  }
}
