package dev.penumbra.shard;

/** A request gave up: a shard ran out of attempts, could never be placed, or the engine closed. */
public final class ShardFailedException extends RuntimeException {
  public ShardFailedException(String message) {
    super(message);
  }
}
