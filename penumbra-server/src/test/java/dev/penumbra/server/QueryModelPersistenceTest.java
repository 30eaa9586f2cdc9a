package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.ml.TreePredictor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A saved query model of another feature schema is refused with a clear message and set aside; the server starts
 * without it. A garbled journal likewise.
 */
class QueryModelPersistenceTest {

  @Test
  void aModelOfAnotherSchemaIsNotUsedAndIsSetAside(@TempDir Path data) throws Exception {
    String backend;
    try (TreePredictor p = TreePredictor.builder().build()) {
      backend = p.backend().name();
    }
    String file = "{\"formatVersion\": 1, \"capability\": \"query\", \"model\": {\"formatVersion\": 1, \"name\": "
        + "\"query-model\", \"backend\": \"" + backend + "\", \"features\": [\"x\"], \"dimensions\": [\"memory\"], "
        + "\"levels\": [0.5], \"offsets\": [0.0], \"residualQuantiles\": [[0.0]], \"label\": \"old\", \"trainedOn\": 1, "
        + "\"calibrationSize\": 1, \"version\": 1, \"tribuo\": \"AAAA\", \"sampleFeatures\": [], \"sampleActuals\": [], "
        + "\"sinceTrain\": 0}}";
    Files.writeString(data.resolve("model-query.json"), file);
    List<String> progress = new CopyOnWriteArrayList<>();
    ServerConfig config = TestServers.config(Map.of("PENUMBRA_SERVER_DATA_DIR", data.toString(),
        "PENUMBRA_STREAM_ENABLED", "false", "PENUMBRA_TASK_ENABLED", "false", "PENUMBRA_FAILOVER_ENABLED", "false"));
    try (PenumbraServer s = PenumbraServer.builder(config).progress(progress::add).build().start()) {
      assertThat(s.awaitReady(Duration.ofMinutes(2))).isTrue();
      assertThat(progress).anySatisfy(m -> assertThat(m).contains("the saved one is not used")
          .contains("feature schema").contains("no longer computed [x]").contains("re-fed"));
      assertThat(s.capability("query").orElseThrow().learning().modelVersion()).isEqualTo(-1);
      TestServers.Reply q = TestServers.post(s, "/v1/queries", "{\"sql\": \"SELECT count(*) FROM nation\"}");
      assertThat(q.status()).as(q.body()).isEqualTo(200);
    }
    assertThat(Files.exists(data.resolve("model-query.json"))).as("no longer under its name").isFalse();
    try (var files = Files.list(data)) {
      Path aside = files.filter(p -> p.getFileName().toString().startsWith("model-query.json.bad-")).findFirst()
          .orElseThrow(() -> new AssertionError("the refused model was not set aside"));
      assertThat(Files.readString(aside)).as("kept as it was").isEqualTo(file);
    }
    assertThat(progress).anySatisfy(m -> assertThat(m).contains("kept as model-query.json.bad-"));
  }

  /**
   * A journal that is not one (garbage) is set aside with a message naming it; the model is fed again from the saved
   * runs, and those samples are journaled anew (the new journal holds every sample the model learned).
   */
  @Test
  void aGarbledJournalIsSetAsideAndTheModelIsFedFromTheSavedRuns(@TempDir Path data) throws Exception {
    Map<String, String> env = Map.of("PENUMBRA_SERVER_DATA_DIR", data.toString(), "PENUMBRA_STREAM_ENABLED", "false",
        "PENUMBRA_TASK_ENABLED", "false", "PENUMBRA_FAILOVER_ENABLED", "false");
    int sampled = 0;
    try (PenumbraServer s = PenumbraServer.builder(TestServers.config(env)).build().start()) {
      assertThat(s.awaitReady(Duration.ofMinutes(2))).isTrue();
      for (int i = 0; i < 4; i++) {
        TestServers.Reply q = TestServers.post(s, "/v1/queries", "{\"sql\": \"SELECT count(*) FROM orders WHERE "
            + "o_totalprice > " + (1000 * i) + "\"}");
        assertThat(q.status()).as(q.body()).isEqualTo(200);
        sampled += q.json().get("report").path("shadow").path("skipped").isMissingNode() ? 1 : 0;
      }
    }
    Path journal = SampleJournal.fileOf(data, "query");
    assertThat(SampleJournal.read(journal, "query", QueryCapability.JOURNAL_FEATURES).entries()).hasSize(sampled);
    byte[] garbage = {0x00, (byte) 0xfe, 'x', '\n', 'y'};
    Files.write(journal, garbage);
    List<String> progress = new CopyOnWriteArrayList<>();
    try (PenumbraServer s = PenumbraServer.builder(TestServers.config(env)).progress(progress::add).build().start()) {
      assertThat(s.awaitReady(Duration.ofMinutes(2))).isTrue();
      assertThat(progress).anySatisfy(m -> assertThat(m).contains("journal is not used")
          .contains("journal-query.jsonl").contains("kept as journal-query.jsonl.bad-"));
      assertThat(SampleJournal.read(journal, "query", QueryCapability.JOURNAL_FEATURES).entries())
          .as("the saved runs fed to the model again, and journaled").hasSize(sampled);
    }
    try (var files = Files.list(data)) {
      assertThat(files.filter(p -> p.getFileName().toString().startsWith("journal-query.jsonl.bad-")))
          .singleElement().satisfies(p -> assertThat(Files.readAllBytes(p)).isEqualTo(garbage));
    }
  }
}
