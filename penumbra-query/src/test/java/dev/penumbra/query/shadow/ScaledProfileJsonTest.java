package dev.penumbra.query.shadow;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** Learned state saved by the server holds scaled profiles: the cut-off flag round-trips, and older files lack it. */
class ScaledProfileJsonTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void roundTripsAndReadsAProfileSavedBeforeTheCutOffFlag() throws Exception {
    ScaledProfile cut = new ScaledProfile(2e9, 0, 0, 100, 1, 0, 0, 0, 0, 0, 0, 0, true, 0, 0, true);
    assertThat(JSON.readValue(JSON.writeValueAsString(cut), ScaledProfile.class)).isEqualTo(cut);
    ScaledProfile done = new ScaledProfile(1e6, 1 << 20, 0, 10, 10, 1, 0, 0, 0, 0, 0, 100, false, 0, 1);
    String older = JSON.writeValueAsString(done).replace(",\"cutOff\":false", "");
    assertThat(older).doesNotContain("cutOff");
    assertThat(JSON.readValue(older, ScaledProfile.class)).isEqualTo(done);
  }
}
