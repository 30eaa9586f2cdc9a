package dev.penumbra.server;

/** A request the server refuses: the HTTP status, the field at fault and its value. */
public sealed class ApiException extends RuntimeException permits Quotas.Exceeded {
  private final int status;
  private final String field;
  private final String value;

  public ApiException(int status, String field, String value, String message) {
    super(message);
    this.status = status;
    this.field = field;
    this.value = value;
  }

  public int status() {
    return status;
  }

  public String field() {
    return field;
  }

  public String value() {
    return value;
  }
}
