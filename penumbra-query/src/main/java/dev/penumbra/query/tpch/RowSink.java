package dev.penumbra.query.tpch;

/**
 * Receives generated rows column by column, in the table's column order. Loaders implement it over a DuckDB
 * appender or a PostgreSQL COPY stream; failures are rethrown unchecked as {@link LoadFailure}.
 */
interface RowSink {
  void int4(int v);

  void int8(long v);

  /** A DECIMAL(15,2) given in hundredths. */
  void cents(long v);

  void date(int epochDay);

  void text(String v);

  void endRow();

  /** Wraps a loader's checked failure so the generator loops stay free of checked exceptions. */
  final class LoadFailure extends RuntimeException {
    LoadFailure(Exception cause) {
      super(cause.getMessage(), cause);
    }
  }
}
