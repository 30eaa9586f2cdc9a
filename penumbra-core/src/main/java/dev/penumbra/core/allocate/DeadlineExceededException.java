package dev.penumbra.core.allocate;

/** A request's deadline passed while it was waiting for capacity; it was not placed. */
public class DeadlineExceededException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public DeadlineExceededException(String message) {
    super(message);
  }
}
