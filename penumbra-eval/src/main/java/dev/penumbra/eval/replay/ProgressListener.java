package dev.penumbra.eval.replay;

/** Told after each finished (trace, policy) run; called from worker threads, so implementations synchronise. */
@FunctionalInterface
public interface ProgressListener {

  ProgressListener NONE = (done, total) -> {};

  void progress(int done, int total);
}
