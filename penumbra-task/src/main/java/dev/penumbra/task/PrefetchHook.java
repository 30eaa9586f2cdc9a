package dev.penumbra.task;

import dev.penumbra.core.Resources;

/**
 * Called on the executor's warm-up thread when resources are warmed for a task, before the task asks for
 * them: the place to load a cache or open files the coming phase will read. Called once per warm-up, so it
 * should be idempotent. If it throws, the warm-up it belongs to is released and the failure is logged and
 * counted; the task itself goes on.
 */
@FunctionalInterface
public interface PrefetchHook {

  /**
   * @param taskId the task being warmed for
   * @param predicted the demand forecast that triggered the warm-up (upper bound at the task's priority)
   */
  void prefetch(String taskId, Resources predicted) throws Exception;
}
