package dev.penumbra.query.engine;

/** What happened to a query run on a primary engine. */
public enum Outcome {
  /** Finished within its memory reservation without writing temporary files. */
  COMPLETED,
  /** Finished, but wrote temporary files because the reserved memory did not suffice. */
  SPILLED,
  /** Aborted because the reserved memory did not suffice and the engine could not spill. */
  FAILED_MEMORY,
  /** Cancelled at its timeout. */
  TIMED_OUT,
  /** Rejected or failed by the engine for another reason (syntax, missing table, ...); see the message. */
  SQL_ERROR
}
