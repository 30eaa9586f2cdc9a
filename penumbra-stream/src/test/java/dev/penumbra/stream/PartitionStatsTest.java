package dev.penumbra.stream;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PartitionStatsTest {
  @Test
  void aRecordFinishedBeforeItsSubmissionWasCountedGivesNoNegativeBacklog() {
    // What a snapshot under a flood saw: one record processed before "submitted" was incremented.
    assertThat(new PartitionStats(0, 1, 299, 300, 0, 0, 0, 0).backlog()).isZero();
    assertThat(new PartitionStats(0, 1, 310, 300, 0, 0, 0, 0).backlog()).isEqualTo(10);
  }
}
