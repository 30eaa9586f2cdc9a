package dev.penumbra.core.ledger;

/**
 * Receives every change of a ledger, in sequence order, one event at a time. Called on the thread that made
 * the change (or on a thread that was already delivering events), never while the ledger's lock is held, so a
 * listener may call the ledger. It should be quick: the next events wait for it. An exception it throws is
 * logged and does not stop delivery to the others.
 */
@FunctionalInterface
public interface LedgerListener {
  void onEvent(LedgerEvent event);
}
