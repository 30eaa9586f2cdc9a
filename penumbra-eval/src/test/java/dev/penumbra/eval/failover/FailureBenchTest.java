package dev.penumbra.eval.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class FailureBenchTest {

  static final Path DATA = Path.of(System.getProperty("penumbra.data", "../../shared/data"), "backblaze-2013");
  static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

  @Test
  void scoresTheHeldOutDaysAgainstTheBaselines() throws Exception {
    assumeTrue(Files.isDirectory(DATA), "Backblaze data absent at " + DATA + ": skipping the failure benchmark test");
    FailureBench.Result r = FailureBench.run(FailureBench.Options.defaults(DATA).withoutDesigns(), System.err);
    System.err.println(FailureReports.table(r));
    assertThat(r.trainPeriod()).isEqualTo("2013-04-10..2013-04-24");
    assertThat(r.testPeriod()).isEqualTo("2013-04-25..2013-05-04");
    assertThat(r.testFailures()).isEqualTo(24);
    assertThat(r.models()).extracting(FailureBench.ModelResult::model)
        .containsExactly(FailureBench.PENUMBRA, FailureBench.BACKBLAZE, FailureBench.AGE, FailureBench.RANDOM);
    FailureBench.ModelResult pen = r.models().get(0);
    FailureBench.ModelResult rule = r.models().get(1);
    // Ranks failing drives above Backblaze's rule, and calibration keeps the Brier score near the base rate's.
    assertThat(pen.rocAuc()).isGreaterThan(rule.rocAuc());
    assertThat(pen.prAuc()).isGreaterThan(rule.prAuc());
    assertThat(pen.brier()).isLessThan(r.climatologyBrier() * 1.2);
    assertThat(pen.thresholds()).hasSize(4);
    // The reliability bands are reported (empty where nothing scores that high).
    assertThat(pen.bands()).extracting(FailureBench.Band::low).containsExactly(0.6, 0.85);
    // At the product's default thresholds (alarm rate on the training days) the model alarms, and catches some failures of the test days.
    assertThat(pen.thresholds().get(2).alarms()).isPositive();
    assertThat(pen.thresholds().get(2).caught()).isPositive();
    // The shipped defaults are those levels, scored on the held-out days, and alarm near the rates they aim at.
    FailureBench.ShippedDefaults d = r.shippedDefaults();
    assertThat(d.atProvision()).isEqualTo(pen.thresholds().get(2));
    assertThat(d.atPromote()).isEqualTo(pen.thresholds().get(3));
    assertThat(d.heldOutProvisionShare()).isBetween(d.provisionShare() / 10, d.provisionShare() * 10);
    assertThat(d.heldOutPromoteShare()).isLessThan(d.heldOutProvisionShare());
  }

  @Test
  void rejectsBadOptionsNamingTheValue() {
    assertThatThrownBy(() -> new FailureBench.Options(DATA, DATA, 1.5, 3, List.of(0.7), 1))
        .hasMessageContaining("trainShare").hasMessageContaining("1.5");
    assertThatThrownBy(() -> new FailureBench.Options(DATA, DATA, 0.6, 3, List.of(1.7), 1))
        .hasMessageContaining("threshold").hasMessageContaining("1.7");
  }
}
