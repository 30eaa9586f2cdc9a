package dev.penumbra.eval.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.penumbra.core.Resources;
import dev.penumbra.core.predict.Features;
import dev.penumbra.ml.SavedModel;
import dev.penumbra.ml.TreePredictor;
import dev.penumbra.query.workload.Workload;
import dev.penumbra.server.Capability;
import dev.penumbra.server.Json;
import dev.penumbra.server.PenumbraServer;
import dev.penumbra.server.ServerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * What a restart costs the query model: a server on a fresh data directory runs queries until its gradient-boosted
 * model is fitted, stops (saving it), and is started again twice on the same directory — with the saved model
 * ({@code model-query.json}, Tribuo's protobuf), and without it, when the saved runs are fed to the model again and
 * it retrains in the background. For each start: the time until the server is ready and until the model tier answers,
 * and which model version on how many samples it answers with. Only 127.0.0.1 is addressed.
 */
public final class RestartBench {

  /**
   * @param queries queries run before the restarts
   * @param samples samples the saved model's window held
   * @param version the saved model's version
   * @param with the start with the saved model (null when no model was fitted within the limits)
   * @param without the start without it (the runs re-fed; null likewise)
   */
  public record Result(int queries, int samples, long version, Start with, Start without, List<ModelStart> scaling,
      Journal journal) {}

  /**
   * What journaling each learned sample costs (docs/server.md, "Persistence"): the server's own timer of its appends
   * (write and fsync) while the queries ran, against the queries' mean time; and on the same disk, appending a line
   * of the journal's size with and without fsync (the policy against not syncing).
   *
   * @param appends samples journaled while the queries ran
   * @param appendMeanMicros their mean append time (write + fsync)
   * @param appendMaxMicros the slowest (over the timer's last window)
   * @param queryMeanMillis the queries' mean time as the client saw it
   * @param syncedP50Micros same-size appends with fsync on the data directory's disk, median
   * @param syncedP99Micros ... 99th percentile
   * @param unsyncedP50Micros without fsync, median
   * @param unsyncedP99Micros ... 99th percentile
   */
  public record Journal(long appends, double appendMeanMicros, double appendMaxMicros, double queryMeanMillis,
      double syncedP50Micros, double syncedP99Micros, double unsyncedP50Micros, double unsyncedP99Micros) {}

  /**
   * The model alone at a larger window: the saved samples resampled (with 5% seeded noise) to {@code samples}, fed to
   * a fresh predictor as a restart re-feeds them, against putting back its saved state.
   *
   * @param refeedMillis from the first sample learned until the last training it triggered is done (the model tier
   *     answers with a model of every sample only then)
   * @param restoreMillis reading the saved state back (JSON to record, Tribuo's protobuf to the model)
   * @param bytes the saved state's size as JSON
   */
  public record ModelStart(int samples, double refeedMillis, double restoreMillis, long bytes) {}

  /**
   * One start on the saved directory.
   *
   * @param readyMillis from build to ready (the capability started and what it learned put back)
   * @param modelMillis from build until the model tier answers, -1 when it did not within the limit
   * @param settledMillis from build until the model stopped changing (no training for 5 s), -1 when not within the limit
   * @param version the model version it answers with once settled
   * @param trainedOn samples that model was fitted and calibrated on
   */
  public record Start(double readyMillis, double modelMillis, double settledMillis, long version, int trainedOn) {}

  private RestartBench() {}

  /**
   * Runs it on a TPC-H database of scale {@code scale}: at most {@code maxQueries} queries or {@code limit} to fit the
   * model, then the two starts, each waited on at most {@code limit}.
   */
  public static Result run(double scale, int maxQueries, Duration limit, long seed, Consumer<String> progress)
      throws Exception {
    Path dir = Files.createTempDirectory("penumbra-restart-bench-");
    try {
      Map<String, String> env = new HashMap<>(Map.of("PENUMBRA_SERVER_PORT", "0", "PENUMBRA_SERVER_DATA_DIR",
          dir.toString(), "PENUMBRA_QUERY_SCALE", Double.toString(scale), "PENUMBRA_STREAM_ENABLED", "false",
          "PENUMBRA_TASK_ENABLED", "false", "PENUMBRA_FAILOVER_ENABLED", "false"));
      ServerConfig cfg = ServerConfig.load(null, env);
      int queries = 0;
      JsonNode saved;
      Journal journal;
      boolean fitted;
      try (PenumbraServer s = PenumbraServer.builder(cfg).build().start()) {
        if (!s.awaitReady(Duration.ofMinutes(5))) {
          throw new IllegalStateException("server did not become ready within 5 minutes");
        }
        Capability.Learning query = s.capability("query").orElseThrow().learning();
        HttpClient http = HttpClient.newHttpClient();
        Workload workload = Workload.tpch(scale);
        Random rnd = new Random(seed);
        long end = System.nanoTime() + limit.toNanos();
        long queryNanos = 0;
        // Past the first training and into the next, so the saved window holds more than one training's samples.
        while (queries < maxQueries && System.nanoTime() < end && query.modelVersion() < 3) {
          String body = Json.MAPPER.writeValueAsString(Map.of("sql", workload.sample(rnd).sql()));
          long q0 = System.nanoTime();
          http.send(HttpRequest.newBuilder(URI.create(s.url() + "/v1/queries"))
              .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
              HttpResponse.BodyHandlers.discarding());
          queryNanos += System.nanoTime() - q0;
          queries++;
          if (queries % 25 == 0) {
            progress.accept("  " + queries + " queries, model version " + query.modelVersion());
          }
        }
        fitted = query.modelVersion() >= 1;
        String metrics = http.send(HttpRequest.newBuilder(URI.create(s.url() + "/metrics")).GET().build(),
            HttpResponse.BodyHandlers.ofString()).body();
        double[] sync = appendMicros(dir, true, 500);
        double[] nosync = appendMicros(dir, false, 500);
        double count = metric(metrics, "penumbra_query_journal_append_seconds_count");
        journal = new Journal((long) count, count > 0 ? metric(metrics, "penumbra_query_journal_append_seconds_sum")
            / count * 1e6 : Double.NaN, metric(metrics, "penumbra_query_journal_append_seconds_max") * 1e6,
            queryNanos / 1e6 / Math.max(1, queries), sync[0], sync[1], nosync[0], nosync[1]);
        progress.accept(String.format(java.util.Locale.ROOT, "journal: %d appends, mean %.0f us (query mean %.1f ms); "
            + "same-size appends with fsync p50 %.0f / p99 %.0f us, without %.1f / %.1f us", journal.appends(),
            journal.appendMeanMicros(), journal.queryMeanMillis(), sync[0], sync[1], nosync[0], nosync[1]));
      }
      if (!fitted) {
        // The shadow gate samples few runs on a quiet server: the journal's cost is measured all the same.
        progress.accept("no model was fitted after " + queries + " queries (" + journal.appends()
            + " sampled runs); the restarts are not measured");
        return new Result(queries, (int) journal.appends(), 0, null, null, List.of(), journal);
      }
      saved = Json.MAPPER.readTree(Files.readString(dir.resolve("model-query.json"))).get("model");
      progress.accept("saved model version " + saved.get("version") + " on " + saved.get("sampleFeatures").size()
          + " samples; starting again with it");
      Start with = start(cfg, limit);
      Files.move(dir.resolve("model-query.json"), dir.resolve("model-query.json.away"));
      progress.accept("and without it");
      Start without = start(cfg, limit);
      List<ModelStart> scaling = new java.util.ArrayList<>();
      for (int n : new int[] {500, 2000, 5000}) {
        progress.accept("the model alone at " + n + " samples");
        scaling.add(scaling(saved, n, seed));
      }
      return new Result(queries, saved.get("sampleFeatures").size(), saved.get("version").asLong(), with, without,
          scaling, journal);
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** A Prometheus sample's value by its full name (no labels), NaN when absent. */
  static double metric(String text, String name) {
    for (String line : text.split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return Double.NaN;
  }

  /** Median and p99 of {@code n} appends of a journal-sized line (400 bytes) to a file in {@code dir}. */
  static double[] appendMicros(Path dir, boolean fsync, int n) throws java.io.IOException {
    Path f = dir.resolve("append-probe-" + fsync);
    byte[] line = ("{\"seq\": 1, \"f\": [" + "0.123456789, ".repeat(28) + "1], \"a\": [1, 2, 3, 4]}\n")
        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    double[] t = new double[n];
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f,
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE,
        java.nio.file.StandardOpenOption.APPEND)) {
      for (int i = 0; i < n; i++) {
        long t0 = System.nanoTime();
        ch.write(java.nio.ByteBuffer.wrap(line));
        if (fsync) {
          ch.force(false);
        }
        t[i] = (System.nanoTime() - t0) / 1e3;
      }
    } finally {
      Files.deleteIfExists(f);
    }
    return new double[] {dev.penumbra.eval.report.Quantiles.of(t, 0.5), dev.penumbra.eval.report.Quantiles.of(t, 0.99)};
  }

  static ModelStart scaling(JsonNode savedJson, int n, long seed) throws Exception {
    JsonNode plain = savedJson.deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) plain).remove("journalSeq");
    SavedModel base = Json.MAPPER.treeToValue(plain, SavedModel.class);
    String[] names = base.features().toArray(String[]::new);
    Random rnd = new Random(seed + n);
    List<Features> features = new java.util.ArrayList<>();
    List<Resources> actuals = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      int k = rnd.nextInt(base.sampleFeatures().length);
      Features.Builder f = Features.builder();
      for (int j = 0; j < names.length; j++) {
        f.put(names[j], base.sampleFeatures()[k][j] * (1 + 0.05 * rnd.nextGaussian()));
      }
      features.add(f.build());
      Resources a = Resources.ZERO;
      for (Resources.Dimension d : Resources.Dimension.values()) {
        a = a.with(d, Math.max(0, Math.round(base.sampleActuals()[k][d.ordinal()] * (1 + 0.05 * rnd.nextGaussian()))));
      }
      actuals.add(a);
    }
    // The saved state of a model fitted on them, as the server would hold it after such a run.
    String text;
    try (TreePredictor fitted = TreePredictor.builder().name("query-model").historyCapacity(Math.max(n, 10))
        .executor(Runnable::run).build()) {
      for (int i = 0; i < n; i++) {
        fitted.learn(features.get(i), actuals.get(i));
      }
      fitted.retrainNow();
      text = Json.MAPPER.writeValueAsString(fitted.save().orElseThrow());
    }
    long t0 = System.nanoTime();
    try (TreePredictor again = TreePredictor.builder().name("query-model").historyCapacity(Math.max(n, 10)).build()) {
      for (int i = 0; i < n; i++) {
        again.learn(features.get(i), actuals.get(i));
      }
      while (!again.fitted() || again.isTraining()) {
        // Training runs on the predictor's own thread with no completion event; the restart's time is the figure.
        Thread.sleep(5);
      }
    }
    double refeed = (System.nanoTime() - t0) / 1e6;
    long t1 = System.nanoTime();
    try (TreePredictor again = TreePredictor.builder().name("query-model").historyCapacity(Math.max(n, 10)).build()) {
      again.restore(Json.MAPPER.readValue(text, SavedModel.class), base.features());
    }
    double restore = (System.nanoTime() - t1) / 1e6;
    return new ModelStart(n, refeed, restore, text.length());
  }

  private static Start start(ServerConfig cfg, Duration limit) throws Exception {
    long t0 = System.nanoTime();
    try (PenumbraServer s = PenumbraServer.builder(cfg).build().start()) {
      if (!s.awaitReady(Duration.ofMinutes(5))) {
        throw new IllegalStateException("server did not become ready within 5 minutes");
      }
      double ready = (System.nanoTime() - t0) / 1e6;
      Capability.Learning query = s.capability("query").orElseThrow().learning();
      long end = t0 + limit.toNanos();
      double model = -1;
      double settled = -1;
      long lastVersion = -2;
      long changed = System.nanoTime();
      while (System.nanoTime() < end) {
        long v = query.modelVersion();
        long now = System.nanoTime();
        if (v >= 0 && model < 0) {
          model = (now - t0) / 1e6;
        }
        if (v != lastVersion) {
          lastVersion = v;
          changed = now;
        } else if (v >= 0 && now - changed >= 5_000_000_000L) {
          settled = (changed - t0) / 1e6;
          break;
        }
        // The restarted server's model version is read over HTTP: there is no event to wait on across processes.
        Thread.sleep(20);
      }
      JsonNode m = query.model().map(n -> (JsonNode) n).orElse(null);
      int trainedOn = m == null ? 0 : m.get("trainedOn").asInt() + m.get("calibrationSize").asInt();
      // Stopping saves the model again: the next start finds the same directory as this one did.
      return new Start(ready, model, settled, lastVersion, trainedOn);
    }
  }
}
