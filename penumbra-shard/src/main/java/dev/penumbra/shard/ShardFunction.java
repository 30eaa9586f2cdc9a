package dev.penumbra.shard;

/** The processing function a backend applies to a shard's data; returns its partial result. */
@FunctionalInterface
public interface ShardFunction {
  Object apply(Shard shard) throws Exception;
}
