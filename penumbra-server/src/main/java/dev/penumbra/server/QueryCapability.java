package dev.penumbra.server;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.penumbra.core.Priority;
import dev.penumbra.core.allocate.DeadlineExceededException;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.ml.TreePredictor;
import dev.penumbra.query.QueryGateway;
import dev.penumbra.query.QueryJson;
import dev.penumbra.query.QueryReport;
import dev.penumbra.query.QueryRequest;
import dev.penumbra.query.QueryResponse;
import dev.penumbra.query.shadow.QueryRejectedException;
import dev.penumbra.query.workload.QuerySpec;
import dev.penumbra.query.workload.Workload;
import io.javalin.http.HandlerType;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Queries on the embedded TPC-H database through a {@link QueryGateway} that reserves on the server's
 * ledger. Baseline for the dashboard: a fixed equal slot per engine (node memory / engine instances), the
 * reservation a static pool of workers would hold whatever the query.
 *
 * <p>About 520 lines: its routes, meters and what it keeps across restarts (the model, its sample journal, the
 * histories) share the gateway and the model; the journal's file format is {@link SampleJournal}'s own.
 */
final class QueryCapability implements Capability, Capability.Learning, Capability.Timed, Capability.Admission {
  static final String NAME = "query";
  /** The seed of the embedded TPC-H data; shadow workers must hold the same. */
  static final long TPCH_SEED = 42;
  private static final int RECENT = 50;

  private final Ledger ledger;
  private final ServerConfig config;
  private final Consumer<String> progress;
  private final Timeline timeline = new Timeline("memory", "MiB", 600);
  private final ArrayDeque<QueryRecord> recent = new ArrayDeque<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final long baselineSlot;
  private volatile QueryGateway gateway;
  /** The gateway's model tier, kept to save and restore its fitted state. */
  private volatile TreePredictor model;
  /** The same model as the gateway sees it: every sample it learns is journaled (with server.dataDir). */
  private volatile JournaledPredictor journaled;
  private volatile io.micrometer.core.instrument.Timer journalTimer;
  private volatile boolean closed;
  private volatile MeterRegistry registry;
  private Workload workload;
  private final LoopView view;
  /** The shadow share over the last minute, beside the one since start (a cold start's plans weigh on that one). */
  private final ShareWindow recentShare = new ShareWindow(RECENT_MILLIS);
  static final long RECENT_MILLIS = 60_000;
  /** Shadow workers ({@code serve --role shadow}) that run this gateway's sample runs when any is up. */
  private final ShadowWorkers workers;

  QueryCapability(Ledger ledger, ServerConfig config, Consumer<String> progress) {
    this.ledger = ledger;
    this.config = config;
    this.progress = progress;
    this.baselineSlot = config.ledger().memory() / config.query().engineInstances();
    // Everything but the timeline comes from the gateway, which exists once start() has built it.
    ErrorTracker none = new ErrorTracker();
    this.view = LoopView.of(NAME, timeline).ready(() -> gateway != null && !closed).inFlight(inFlight::get)
        .queued(() -> gateway == null ? 0 : gateway.waiting())
        .errors(() -> gateway == null ? none : gateway.errors())
        // The gateway's measured shadow share (shadow time over primary time), the figure its budget bounds.
        .shadowOverhead(() -> gateway == null ? Double.NaN : gateway.shadowStats().share())
        .shadowOverheadRecent(this::recentShadowShare)
        .loops(() -> gateway == null ? java.util.List.of() : java.util.List.of(gateway.loopStats())).build();
    this.workers = new ShadowWorkers(java.time.Clock.systemUTC(), ShadowWorkers.EXPIRY, config.query().scale(),
        TPCH_SEED);
  }

  /** The gateway, once {@link #start()} built it (null before). */
  QueryGateway gateway() {
    return gateway;
  }

  /** The shadow workers this capability's gateway spreads its sample runs over. */
  ShadowWorkers workers() {
    return workers;
  }

  /** The request body of {@code POST /v1/queries}. */
  record QueryBody(String sql, String user, String priority, Double deadlineSeconds) {}

  @Override
  public void start() throws Exception {
    ServerConfig.Query q = config.query();
    TreePredictor trees = TreePredictor.builder().name("query-model").build();
    this.model = trees;
    this.journaled = new JournaledPredictor(trees);
    if (journalTimer != null) {
      journaled.timer(journalTimer);
    }
    QueryGateway.Builder b = QueryGateway.builder().ledger(ledger).scale(q.scale()).engineInstances(q.engineInstances())
        .maxRows(q.maxRows()).timeout(q.timeout()).progress(progress).seed(TPCH_SEED).shadowSite(workers::around)
        // The query predictor's model tier: a gradient-boosted model, built here at the edge (query knows the SPI).
        .model(journaled);
    q.cacheDirPath().ifPresent(b::cacheDir);
    QueryGateway gw = b.build();
    synchronized (this) {
      if (closed) {
        gw.close();
        return;
      }
      workload = Workload.tpch(gw.database().metadata().scale());
      gateway = gw;
    }
  }

  @Override
  public Optional<com.fasterxml.jackson.databind.JsonNode> learned() {
    QueryGateway gw = gateway;
    if (gw == null) {
      return Optional.empty();
    }
    return Optional.of(Json.MAPPER.valueToTree(new Learned(gw.errors().export(), gw.predictor().export())));
  }

  @Override
  public void restoreLearned(com.fasterxml.jackson.databind.JsonNode saved) {
    restoreLearned(saved, Optional.empty());
  }

  /** The model's sample journal, in feature-name order. */
  static final java.util.List<String> JOURNAL_FEATURES =
      java.util.List.copyOf(new java.util.TreeSet<>(dev.penumbra.query.predict.QueryPredictor.FEATURES));

  /**
   * Puts back the error statistics and the fingerprint histories, and the gradient-boosted model: its saved state
   * when there is one of this feature schema (it answers at once, as before) followed by the journaled samples it
   * learned after that state was saved; else the journal when it holds every sample the model ever learned, else the
   * sampled runs of the histories are fed to it again (and journaled) and it retrains in the background.
   *
   * @return false when a saved model was given and not used (the caller sets its file aside)
   */
  @Override
  public boolean restoreLearned(com.fasterxml.jackson.databind.JsonNode saved,
      Optional<com.fasterxml.jackson.databind.JsonNode> savedModel) {
    QueryGateway gw = gateway;
    if (gw == null) {
      return true;
    }
    org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(QueryCapability.class);
    java.nio.file.Path journalFile = config.server().dataDirPath()
        .map(d -> SampleJournal.fileOf(d, NAME)).orElse(null);
    SampleJournal.Content journal = null;
    if (journalFile != null) {
      try {
        journal = SampleJournal.read(journalFile, NAME, JOURNAL_FEATURES);
      } catch (SampleJournal.Unreadable e) {
        String aside = DataDir.setAside(journalFile);
        log.warn("query model journal not used: {}; kept as {}; the model is fed from the saved runs instead",
            e.getMessage(), aside);
        progress.accept("query model: the journal is not used (" + e.getMessage() + "); kept as " + aside);
      }
    }
    boolean loaded = false;
    long journalSeq = 0;
    TreePredictor trees = model;
    if (savedModel.isPresent() && trees != null) {
      try {
        com.fasterxml.jackson.databind.node.ObjectNode m = savedModel.get().isObject()
            ? ((com.fasterxml.jackson.databind.node.ObjectNode) savedModel.get()).deepCopy()
            : Json.MAPPER.createObjectNode();
        com.fasterxml.jackson.databind.JsonNode seq = m.remove("journalSeq");
        if (seq != null && (!seq.canConvertToExactIntegral() || seq.asLong() < 0)) {
          throw new IllegalArgumentException("journalSeq must be a whole number >= 0, was " + seq);
        }
        trees.restore(Json.convert(m,
            new com.fasterxml.jackson.core.type.TypeReference<dev.penumbra.ml.SavedModel>() {}, "query model"),
            dev.penumbra.query.predict.QueryPredictor.FEATURES);
        loaded = true;
        journalSeq = seq == null ? 0 : seq.asLong();
        progress.accept("query model: version " + trees.modelVersion() + " put back (" + trees.historySize()
            + " samples)");
      } catch (IllegalArgumentException e) {
        log.warn("saved query model not used: {}", e.getMessage());
        progress.accept("query model: the saved one is not used (" + e.getMessage() + "); re-fed from the saved runs");
      }
    }
    boolean feedFromHistory = false;
    if (journalFile != null) {
      java.util.List<SampleJournal.Entry> keep = java.util.List.of();
      long from = 0;
      if (loaded && journal != null && journal.from() <= journalSeq) {
        keep = journal.entries();
        from = journalSeq;
      } else if (!loaded && savedModel.isEmpty() && journal != null && journal.from() == 0) {
        keep = journal.entries(); // never trained yet: the journal holds every sample
      } else {
        if (loaded && journal != null) {
          log.warn("query model journal starts after sample {}, the saved model ends at {}: not replayed",
              journal.from(), journalSeq);
        }
        from = loaded ? journalSeq : 0;
        feedFromHistory = !loaded;
      }
      int replayed = 0;
      for (SampleJournal.Entry e : keep) {
        if (e.seq() > from) {
          try {
            journaled.replay(e.features(), e.actual());
            replayed++;
          } catch (IllegalArgumentException ex) {
            log.warn("journaled query sample {} not replayed: {}", e.seq(), ex.getMessage());
          }
        }
      }
      if (replayed > 0) {
        progress.accept("query model: " + replayed + " journaled samples learned again");
      }
      journaled.journal(SampleJournal.start(journalFile, NAME, JOURNAL_FEATURES, from, keep));
    } else {
      feedFromHistory = !loaded;
    }
    if (saved.has("errors")) {
      gw.errors().restore(Json.convert(saved.path("errors"),
          new com.fasterxml.jackson.core.type.TypeReference<java.util.List<ErrorTracker.Scores>>() {}, "query errors"));
    }
    if (saved.has("history")) {
      SampleJournal j = journaled.journal();
      if (j != null && feedFromHistory) {
        j.bulk(true);
      }
      try {
        gw.predictor().restore(Json.convert(saved.path("history"),
            new com.fasterxml.jackson.core.type.TypeReference<java.util.List<dev.penumbra.query.predict.QueryPredictor.Learned>>() {},
            "query history"), feedFromHistory);
      } finally {
        if (j != null) {
          j.bulk(false);
        }
      }
    }
    return loaded || savedModel.isEmpty();
  }

  @Override
  public Optional<com.fasterxml.jackson.databind.JsonNode> model() {
    JournaledPredictor j = journaled;
    if (j == null) {
      return Optional.empty();
    }
    return j.save().map(s -> {
      com.fasterxml.jackson.databind.node.ObjectNode n = Json.MAPPER.valueToTree(s.model());
      n.put("journalSeq", s.journalSeq());
      return n;
    });
  }

  /** The model file now holds every sample up to its journal number: the journal keeps only the later ones. */
  @Override
  public void modelSaved(com.fasterxml.jackson.databind.JsonNode saved) {
    JournaledPredictor jp = journaled;
    SampleJournal j = jp == null ? null : jp.journal();
    if (j != null) {
      j.compact(saved.path("journalSeq").asLong(0));
    }
  }

  @Override
  public long modelVersion() {
    TreePredictor trees = model;
    return trees == null || !trees.fitted() ? -1 : trees.modelVersion();
  }

  @Override
  public void tick() {
    QueryGateway gw = gateway;
    if (gw != null) {
      gw.tick();
      dev.penumbra.query.ShadowStats s = gw.shadowStats();
      recentShare.add(System.currentTimeMillis(), s.shadowNanos(), s.primaryNanos());
    }
  }

  /** Shadow time over primary time in about the last minute (NaN before any primary time in it). */
  private double recentShadowShare() {
    QueryGateway gw = gateway;
    if (gw == null) {
      return Double.NaN;
    }
    dev.penumbra.query.ShadowStats s = gw.shadowStats();
    return recentShare.share(s.shadowNanos(), s.primaryNanos());
  }

  @Override
  public Optional<Priority> mostUrgentWaiting() {
    QueryGateway gw = gateway;
    if (gw == null) {
      return Optional.empty();
    }
    for (Priority p : Priority.values()) {
      if (gw.waiting(p) > 0) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  @Override
  public LoopView view() {
    return view;
  }

  @Override
  public void metrics(MeterRegistry registry) {
    this.registry = registry;
    io.micrometer.core.instrument.Timer appends = io.micrometer.core.instrument.Timer
        .builder("penumbra.query.journal.append")
        .description("Appending one learned sample to the query model's journal: write and fsync (server.dataDir)")
        .register(registry);
    JournaledPredictor jp = journaled;
    if (jp != null) {
      jp.timer(appends);
    }
    this.journalTimer = appends;
    // The query loop's baseline guard: the running cost of each rule on the same measured use, and which acts.
    for (String rule : new String[] {"penumbra", "baseline"}) {
      io.micrometer.core.instrument.Gauge.builder("penumbra.loop.cost", this, c -> c.guardCost(rule))
          .description("Decayed cost of a sizing rule on the measured use").tags("capability", NAME, "rule", rule)
          .register(registry);
    }
    io.micrometer.core.instrument.Gauge.builder("penumbra.loop.acting.baseline", this,
            c -> c.guardCost("acting"))
        .description("1 while the baseline rule sizes new work, else 0").tags("capability", NAME)
        .register(registry);
    // The sandbox's parser check runs on every query whatever the gate decides: reported beside the shadow share,
    // not inside it.
    io.micrometer.core.instrument.Gauge.builder("penumbra.query.sandbox.check.ratio", this, c -> {
      QueryGateway gw = c.gateway;
      return gw == null ? Double.NaN : gw.shadowStats().checkShare();
    }).description("Time of the SQL sandbox's parser check over primary query time").register(registry);
  }

  private double guardCost(String what) {
    QueryGateway gw = gateway;
    if (gw == null) {
      return Double.NaN;
    }
    var g = gw.loopStats().guard();
    return switch (what) {
      case "penumbra" -> g.penumbraCost();
      case "baseline" -> g.baselineCost();
      default -> g.acting() == dev.penumbra.core.loop.ControlLoop.Rule.BASELINE ? 1 : 0;
    };
  }

  @Override
  public void routes(Api api) {
    workers.routes(api, config.server().maxBodyBytes());
    api.command(HandlerType.POST, "/v1/queries", ctx -> {
      QueryBody b = Json.read(ctx, QueryBody.class, config.server().maxBodyBytes());
      Optional<ServerConfig.Principal> who = Edge.principal(ctx);
      if (who.isPresent()) {
        // The caller is who the token says: its queries run as that user and no higher than it may.
        if (b.user() != null && !b.user().equals(who.get().name())) {
          throw new ApiException(403, "user", b.user(), "field 'user' must be your principal '" + who.get().name()
              + "' (or absent)");
        }
        b = new QueryBody(b.sql(), who.get().name(), b.priority(), b.deadlineSeconds());
        try {
          Edge.checkPriority(who.get(), b.priority() == null ? Priority.STANDARD : Edge.priority(b.priority()));
        } catch (IllegalArgumentException e) {
          // A malformed priority is reported by submit with the usual 400.
        }
      }
      QueryResponse r = submit(b);
      ctx.status(status(r.report().outcome())).json(answer(r));
    });
    api.get("/v1/queries", ctx -> {
      List<QueryRecord> list;
      synchronized (recent) {
        list = List.copyOf(recent);
      }
      ctx.json(list);
    });
  }

  /**
   * {@code POST /v1/queries}: the rows and the report; {@code status} and {@code error} only when the query did not
   * complete (a failure is not a success, and its body still has the report).
   */
  record QueryAnswer(List<String> columns, List<List<Object>> rows, long rowCount, QueryJson.Report report,
      @JsonInclude(JsonInclude.Include.NON_NULL) Integer status,
      @JsonInclude(JsonInclude.Include.NON_NULL) String error) {}

  /** One entry of {@code GET /v1/queries}. */
  record QueryRecord(long time, String sql, String user, String outcome, QueryJson.Report report) {}

  /** What the query capability saves between runs: its error scores and the predictor's history. */
  record Learned(List<dev.penumbra.core.feedback.ErrorTracker.Scores> errors,
      List<dev.penumbra.query.predict.QueryPredictor.Learned> history) {}

  static QueryAnswer answer(QueryResponse r) {
    QueryJson.Answer a = QueryJson.response(r);
    int status = status(r.report().outcome());
    return status == 200 ? new QueryAnswer(a.columns(), a.rows(), a.rowCount(), a.report(), null, null)
        : new QueryAnswer(a.columns(), a.rows(), a.rowCount(), a.report(), status,
            r.report().outcome().name().toLowerCase(Locale.ROOT) + ": "
                + r.report().error().orElse("the query did not complete"));
  }

  /**
   * The HTTP status of a query's outcome: 200 when it completed (spilled or not), 504 when it ran out of time,
   * 422 when the engine failed it (a runtime SQL error, or more memory than the node can give even after the
   * retry).
   */
  static int status(dev.penumbra.query.engine.Outcome outcome) {
    return switch (outcome) {
      case COMPLETED, SPILLED -> 200;
      case TIMED_OUT -> 504;
      case SQL_ERROR, FAILED_MEMORY -> 422;
    };
  }

  /** Validates the body, runs the query through the gateway and records it. */
  QueryResponse submit(QueryBody b) {
    if (b.sql() == null || b.sql().isBlank()) {
      throw new ApiException(400, "sql", String.valueOf(b.sql()), "field 'sql' must not be blank");
    }
    String user = b.user() == null ? "anonymous" : b.user();
    if (user.isBlank() || user.length() > 200 || Edge.hasControl(user)) {
      throw new ApiException(400, "user", user, "field 'user' must be 1 to 200 characters, none a control character");
    }
    Priority p;
    try {
      p = b.priority() == null ? Priority.STANDARD : Edge.priority(b.priority());
    } catch (IllegalArgumentException e) {
      throw new ApiException(400, "priority", b.priority(), "field 'priority' must be critical, standard or batch");
    }
    Sla sla = Sla.of(p);
    if (b.deadlineSeconds() != null) {
      double d = b.deadlineSeconds();
      if (!(d > 0) || d > 86_400) {
        throw new ApiException(400, "deadlineSeconds", String.valueOf(d),
            "field 'deadlineSeconds' must be > 0 and <= 86400");
      }
      sla = Sla.of(p, Instant.now().plusMillis((long) (d * 1000)));
    }
    QueryGateway gw = gateway;
    if (gw == null || closed) {
      throw new ApiException(503, null, null, "the query capability is not ready (the database is being prepared)");
    }
    if (inFlight.get() >= config.query().maxQueued()) {
      throw new ApiException(503, null, null, "too many queries in flight (" + config.query().maxQueued() + ")");
    }
    inFlight.incrementAndGet();
    long t0 = System.nanoTime();
    try {
      QueryResponse r = gw.submit(new QueryRequest(b.sql(), user, sla));
      record(b.sql(), r, System.nanoTime() - t0);
      return r;
    } catch (QueryRejectedException e) {
      throw new ApiException(400, "sql", b.sql(), "query rejected ("
          + e.kind().name().toLowerCase(Locale.ROOT).replace('_', ' ') + "): " + e.engineMessage());
    } catch (DeadlineExceededException e) {
      throw new ApiException(504, "deadlineSeconds", String.valueOf(b.deadlineSeconds()),
          "deadline passed while the query waited for a reservation: " + e.getMessage());
    } finally {
      inFlight.decrementAndGet();
      view.changed();
    }
  }

  private void record(String sql, QueryResponse r, long latencyNanos) {
    QueryReport rep = r.report();
    double mib = 1 << 20;
    timeline.add(new Timeline.Sample(System.currentTimeMillis(), "#" + rep.reservation().id(),
        rep.prediction().memoryBytes().point() / mib, rep.reservation().amount().memoryBytes() / mib,
        rep.actual().peakMemoryBytes() / mib, baselineSlot / mib));
    QueryRecord summary = new QueryRecord(System.currentTimeMillis(),
        sql.length() > 500 ? sql.substring(0, 500) + "..." : sql, rep.user(), abbreviate(rep), QueryJson.report(rep));
    synchronized (recent) {
      if (recent.size() == RECENT) {
        recent.removeFirst();
      }
      recent.addLast(summary);
    }
    MeterRegistry reg = registry;
    if (reg != null) {
      Timer.builder("penumbra.query.latency").description("Query latency, submission to response")
          .tags("priority", rep.sla().priority().label(), "outcome", rep.outcome().name().toLowerCase(Locale.ROOT))
          .register(reg).record(Duration.ofNanos(latencyNanos));
      Timer.builder("penumbra.shadow.time").description("Time spent in shadows").tags("capability", NAME)
          .register(reg).record(Duration.ofNanos(rep.shadow().wallNanos()));
    }
  }

  private static String abbreviate(QueryReport rep) {
    return rep.outcome().name().toLowerCase(Locale.ROOT);
  }

  @Override
  public void demoStep(Random random) {
    Workload w;
    synchronized (this) {
      w = workload;
    }
    if (w == null) {
      return;
    }
    QuerySpec spec = w.sample(random);
    double u = random.nextDouble();
    String priority = u < 0.2 ? "critical" : u < 0.6 ? "standard" : "batch";
    try {
      submit(new QueryBody(spec.sql(), "demo", priority, null));
    } catch (ApiException e) {
      if (e.status() != 503) {
        throw e;
      }
    }
  }

  @Override
  public void close() {
    QueryGateway gw;
    synchronized (this) {
      closed = true;
      gw = gateway;
    }
    if (gw != null) {
      gw.close();
    }
    JournaledPredictor jp = journaled;
    if (jp != null && jp.journal() != null) {
      jp.journal().close();
    }
    workers.close();
  }
}
