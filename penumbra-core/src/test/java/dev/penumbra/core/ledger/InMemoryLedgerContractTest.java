package dev.penumbra.core.ledger;

import dev.penumbra.core.ManualClock;

/** The ledger contract on the in-memory ledger, the reference every other implementation is compared with. */
class InMemoryLedgerContractTest extends LedgerContract {

  @Override
  protected Ledger newLedger(ManualClock clock) {
    return Ledger.inMemory(clock);
  }
}
