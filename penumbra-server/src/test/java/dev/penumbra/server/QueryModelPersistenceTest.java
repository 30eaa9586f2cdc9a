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

/** A saved query model of another feature schema is refused with a clear message; the server starts without it. */
class QueryModelPersistenceTest {

  @Test
  void aModelOfAnotherSchemaIsNotUsedAndNotOverwritten(@TempDir Path data) throws Exception {
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
      assertThat(s.capability("query").orElseThrow().modelVersion()).isEqualTo(-1);
      TestServers.Reply q = TestServers.post(s, "/v1/queries", "{\"sql\": \"SELECT count(*) FROM nation\"}");
      assertThat(q.status()).as(q.body()).isEqualTo(200);
    }
    assertThat(Files.readString(data.resolve("model-query.json"))).as("kept until a model of its own replaces it")
        .isEqualTo(file);
  }
}
