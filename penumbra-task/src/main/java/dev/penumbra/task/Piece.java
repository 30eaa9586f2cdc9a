package dev.penumbra.task;

import java.util.ArrayList;
import java.util.List;

/**
 * One reservation's worth of a task's resources: memory blocks or worker threads, with the ledger reservation
 * that accounts for them. Guarded by the owning {@link TaskRun}'s monitor, except {@link #ready}.
 */
final class Piece {

  enum Kind { MEMORY, THREAD }

  final Kind kind;
  /** Blocks or threads it stands for. */
  final int units;
  /** The ledger reservation; for base pieces the task's base reservation (released at the end only). */
  final long reservationId;
  final boolean base;
  /** Free blocks ({@code byte[]}) or idle workers ({@link Worker}). */
  final List<Object> free = new ArrayList<>();
  boolean warm;
  /** Units nobody has started to allocate yet (the warm-up thread or the task itself claims them one by one). */
  int unfilled;
  /** Units being allocated right now. */
  int inFlight;
  boolean released;
  int inUse;
  /** Clock millis since it has been entirely unused (creation for a warm piece). */
  long idleSince;

  Piece(Kind kind, int units, long reservationId, boolean base, boolean warm, long now) {
    this.kind = kind;
    this.units = units;
    this.reservationId = reservationId;
    this.base = base;
    this.warm = warm;
    this.idleSince = now;
  }

  /** Every unit allocated. */
  boolean isReady() {
    return unfilled == 0 && inFlight == 0;
  }
}
