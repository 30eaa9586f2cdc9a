package dev.penumbra.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.LedgerContract;
import org.junit.jupiter.api.AfterEach;

/** The ledger contract on the replicated ledger: three replicas in this JVM, a client with batching on. */
class ClusterLedgerContractTest extends LedgerContract {

  private TestGroup group;

  @Override
  protected Ledger newLedger(ManualClock clock) {
    try {
      group = new TestGroup(3, 0);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return group.client(clock, ClusterLedger.Options.DEFAULTS);
  }

  /** Each operation is a Raft commit here: fewer steps keep the suite short; three seeds still vary them. */
  @Override
  protected int referenceSteps() {
    return 60;
  }

  @AfterEach
  void replicasKeptTheInvariant() {
    assertThat(group.invariantBreach()).isNull();
    assertThat(group.invariantChecks()).isPositive();
  }

  @Override
  protected void closeLedger(Ledger ledger) {
    group.close();
  }
}
