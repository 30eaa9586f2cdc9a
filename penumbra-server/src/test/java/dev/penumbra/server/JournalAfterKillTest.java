package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.penumbra.query.workload.Workload;
import dev.penumbra.server.TestServers.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The query model's samples learned after its last saved training survive a {@code kill -9}: a server in a child
 * process runs queries until its model is fitted and saved, then a few more, and is killed right after the last
 * reply. The server started again on the directory has the saved model (same version, not retrained) with those
 * last samples at the end of its window, in order, with the actual use each reply reported.
 */
class JournalAfterKillTest {

  @Test
  void samplesLearnedJustBeforeTheKillComeBack(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    Path portFile = dir.resolve("port");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        KilledServerMain.class.getName(), data.toString(), portFile.toString(), "query-only")
        .redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
    Workload workload = Workload.tpch(0.01);
    Random rnd = new Random(7);
    JsonNode savedModel;
    List<long[]> lastSamples = new ArrayList<>();
    try {
      await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(portFile) || !child.isAlive());
      assertThat(child.isAlive()).as("child server started; log: %s", dir.resolve("child.log")).isTrue();
      int port = Integer.parseInt(Files.readString(portFile).strip());
      Path modelFile = data.resolve("model-query.json");
      // Exactly the samples the first training needs (a skipped shadow teaches the model nothing), bounded.
      int learned = 0;
      int sent = 0;
      for (; sent < 400 && learned < MIN_SAMPLES; sent++) {
        learned += sample(query(port, workload, rnd)) != null ? 1 : 0;
      }
      assertThat(learned).as("sampled runs in %d queries", sent).isEqualTo(MIN_SAMPLES);
      await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(modelFile));
      savedModel = Json.MAPPER.readTree(Files.readString(modelFile)).get("model");
      assertThat(savedModel.get("sampleActuals").size()).isEqualTo(MIN_SAMPLES);
      // A few more: learned after the model was saved, kept only by the journal (a retraining comes 50% later).
      for (int i = 0; i < 12 && lastSamples.size() < 5; i++) {
        long[] s = sample(query(port, workload, rnd));
        if (s != null) {
          lastSamples.add(s);
        }
      }
    } finally {
      child.destroyForcibly(); // SIGKILL right after the last reply: no shutdown hook, no final save
      child.waitFor();
    }
    assertThat(lastSamples).as("sampled runs after the save").isNotEmpty();
    assertThat(Json.MAPPER.readTree(Files.readString(data.resolve("model-query.json"))).get("model").get("version"))
        .as("the model file was not rewritten after it was read").isEqualTo(savedModel.get("version"));

    List<String> progress = new CopyOnWriteArrayList<>();
    Map<String, String> env = new HashMap<>(KilledServerMain.QUERY_ONLY);
    env.put("PENUMBRA_SERVER_DATA_DIR", data.toString());
    try (PenumbraServer again = PenumbraServer.builder(TestServers.config(env)).progress(progress::add).build()
        .start()) {
      assertThat(again.awaitReady(Duration.ofMinutes(2))).isTrue();
      assertThat(progress).anySatisfy(m -> assertThat(m).contains("journaled samples learned again"));
      Capability query = again.capability("query").orElseThrow();
      JsonNode now = query.learning().model().orElseThrow();
      assertThat(now.get("version").asLong()).as("the saved model, not a re-fed one").isEqualTo(savedModel.get("version").asLong());
      JsonNode window = now.get("sampleActuals");
      assertThat(window.size()).as("the saved window and the samples after it")
          .isEqualTo(MIN_SAMPLES + lastSamples.size());
      for (int i = 0; i < lastSamples.size(); i++) {
        long[] s = lastSamples.get(i);
        JsonNode w = window.get(MIN_SAMPLES + i);
        if (s.length == 2) {
          assertThat(w.get(0).asLong()).as("cpu of sample %d", i).isEqualTo(s[0]);
          assertThat(w.get(1).asLong()).as("memory of sample %d", i).isEqualTo(s[1]);
        }
      }
    }
  }

  static final int MIN_SAMPLES = 50;

  /**
   * What the model learned from a reply: null when its shadow was skipped (nothing), else cpu (µs) and memory as the
   * reply reports them for a completed run, or an empty array for another outcome (learned, with its memory need).
   */
  private static long[] sample(JsonNode reply) {
    JsonNode report = reply.get("report");
    if (!report.path("shadow").path("skipped").isMissingNode()) {
      return null;
    }
    if (!report.path("outcome").asText().equalsIgnoreCase("completed")) {
      return new long[0];
    }
    JsonNode a = report.get("actual");
    return new long[] {a.get("cpuNanos").asLong() / 1000, a.get("peakMemoryBytes").asLong()};
  }

  private static JsonNode query(int port, Workload workload, Random rnd) throws Exception {
    String body = Json.MAPPER.writeValueAsString(Map.of("sql", workload.sample(rnd).sql()));
    Reply r = RestartAfterKillTest.postTo(port, "/v1/queries", body);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json();
  }
}
