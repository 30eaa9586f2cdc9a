package dev.penumbra.stream;

/**
 * The processing function of a stream. The primary workers and the shadow run the same one, so what the shadow
 * measures per record is what the primary will spend. It may be called from several threads at once.
 */
@FunctionalInterface
public interface RecordProcessor {

  void process(StreamRecord record) throws Exception;
}
