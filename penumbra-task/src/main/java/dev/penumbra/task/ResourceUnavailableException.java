package dev.penumbra.task;

/** A task's request that the fallback of its priority rejected, or whose queue wait timed out. */
public class ResourceUnavailableException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public ResourceUnavailableException(String message) {
    super(message);
  }
}
