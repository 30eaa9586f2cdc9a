package dev.penumbra.stream;

import dev.penumbra.core.Checks;
/**
 * One record of a partitioned stream.
 *
 * @param partition the partition it belongs to (>= 0)
 * @param key its key; records with the same key are processed in submission order. May be null (no order kept)
 * @param value its payload (may be null)
 */
public record StreamRecord(int partition, String key, byte[] value) {

  public StreamRecord {
    Checks.atLeast("partition", partition, 0);
  }
}
