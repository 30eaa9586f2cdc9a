package dev.penumbra.stream;

/**
 * One record of a partitioned stream.
 *
 * @param partition the partition it belongs to (>= 0)
 * @param key its key; records with the same key are processed in submission order. May be null (no order kept)
 * @param value its payload (may be null)
 */
public record StreamRecord(int partition, String key, byte[] value) {

  public StreamRecord {
    if (partition < 0) {
      throw new IllegalArgumentException("partition must be >= 0, was " + partition);
    }
  }
}
