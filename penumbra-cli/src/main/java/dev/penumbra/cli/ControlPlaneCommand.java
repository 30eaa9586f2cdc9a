package dev.penumbra.cli;

import dev.penumbra.server.DemoWorkload;
import dev.penumbra.server.PenumbraServer;
import dev.penumbra.server.ServerConfig;
import dev.penumbra.server.ShadowWorker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** What {@code serve} and {@code demo} share: the control plane (HTTP API, dashboard, metrics) until Ctrl-C. */
abstract class ControlPlaneCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file. Default: embedded defaults.")
  Path config;

  @Option(names = "--port", paramLabel = "N", description = "TCP port (0 picks a free one). Default: 8080 or the file's.")
  Integer port;

  @Option(names = "--duration", paramLabel = "SECONDS",
      description = "Stop by itself after this many seconds (default: run until Ctrl-C).")
  Double duration;

  // Serve's own options (set through its annotated setters below); the demo keeps their defaults, so its help
  // lists only what the demo uses.
  boolean cluster;
  String role = "control";
  String controlPlane;
  String workerId;
  Integer slots;

  /** The demo adds a workload; serve runs none. */
  abstract boolean demo();

  @Override
  public Integer call() throws Exception {
    if (config != null && !Files.isReadable(config)) {
      throw OptionChecks.invalid(spec, "--config", config.toString(), "not a readable file");
    }
    if (port != null && (port < 0 || port > 65535)) {
      throw OptionChecks.invalid(spec, "--port", port.toString(), "must be in [0, 65535]");
    }
    if (duration != null && !(duration > 0)) {
      throw OptionChecks.invalid(spec, "--duration", duration.toString(), "must be > 0");
    }
    if (!role.equals("control") && !role.equals("shadow")) {
      throw OptionChecks.invalid(spec, "--role", role, "must be control or shadow");
    }
    if (role.equals("control") && (controlPlane != null || workerId != null || slots != null)) {
      throw OptionChecks.invalid(spec, controlPlane != null ? "--control-plane" : workerId != null ? "--worker-id"
          : "--slots", controlPlane != null ? controlPlane : workerId != null ? workerId : slots.toString(),
          "only with --role shadow");
    }
    if (role.equals("shadow") && (cluster || demo())) {
      throw OptionChecks.invalid(spec, "--role", role, "a shadow worker runs no ledger: drop --cluster");
    }
    ServerConfig cfg;
    try {
      cfg = ServerConfig.load(config, System.getenv());
      if (port != null) {
        cfg = cfg.withPort(port);
      }
    } catch (ServerConfig.ConfigException e) {
      System.err.println(e.getMessage());
      return CommandLine.ExitCode.USAGE;
    }
    if (role.equals("shadow")) {
      return worker(cfg);
    }
    if (cluster != cfg.cluster().enabled()) {
      System.err.println(cluster
          ? "--cluster needs the configuration's cluster section: cluster.self, cluster.peers (id=host:port,...) "
              + "and cluster.dataDir (or PENUMBRA_CLUSTER_SELF, _PEERS, _DATA_DIR); cluster.peers is blank"
          : "invalid configuration: cluster.peers = '" + cfg.cluster().replica().peers().stream()
              .map(p -> p.id() + "=" + p.address()).collect(java.util.stream.Collectors.joining(","))
              + "': set, but --cluster was not given (add --cluster to run this node as a replica)");
      return CommandLine.ExitCode.USAGE;
    }
    PenumbraServer server;
    try {
      server = PenumbraServer.builder(cfg).progress(System.err::println).build();
    } catch (IllegalStateException | java.io.UncheckedIOException e) {
      // The data directory is in use, unreadable, or of another format version: one line, nothing overwritten.
      System.err.println("cannot start: " + e.getMessage());
      return CommandLine.ExitCode.USAGE;
    } catch (IllegalArgumentException e) {
      // The cluster could not start: this node's address is taken, or no leader among the peers.
      System.err.println(e.getMessage());
      return 1;
    }
    CountDownLatch done = new CountDownLatch(1);
    AtomicReference<DemoWorkload> running = new AtomicReference<>();
    Thread hook = new Thread(() -> {
      System.err.println("stopping: finishing running work, releasing reservations ...");
      DemoWorkload w = running.getAndSet(null);
      if (w != null) {
        w.close();
        summary(w);
      }
      server.stop();
      done.countDown();
    });
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      server.start();
    } catch (PenumbraServer.ListenException e) {
      Runtime.getRuntime().removeShutdownHook(hook);
      server.stop();
      System.err.println(e.getMessage());
      return CommandLine.ExitCode.USAGE;
    }
    System.out.println((demo() ? "Penumbra demo" : "Penumbra") + " at " + server.url() + "/  (dashboard; API "
        + server.url() + "/v1/openapi.json, metrics " + server.url() + "/metrics)");
    System.out.flush();
    DemoWorkload workload = null;
    if (demo()) {
      workload = DemoWorkload.start(server, cfg.demo());
      running.set(workload);
      System.err.println("demo workload: " + cfg.demo().clients() + " clients per capability ("
          + String.join(", ", server.capabilities().stream().map(c -> c.name()).toList()) + "); Ctrl-C to stop");
    }
    boolean timedOut = duration != null
        && !done.await((long) (duration * 1000), TimeUnit.MILLISECONDS);
    if (duration == null) {
      done.await();
      return 0;
    }
    if (timedOut) {
      if (running.getAndSet(null) != null) {
        workload.close();
        summary(workload);
      }
      server.stop();
      Runtime.getRuntime().removeShutdownHook(hook);
    }
    return workload != null && workload.steps() == 0 && !server.capabilities().isEmpty() ? 1 : 0;
  }

  /** {@code --role shadow}: a shadow worker until Ctrl-C (or --duration). */
  private int worker(ServerConfig cfg) throws Exception {
    if (controlPlane == null) {
      throw OptionChecks.invalid(spec, "--control-plane", "(missing)", "--role shadow needs the control plane's "
          + "URL, http://HOST:PORT");
    }
    if (workerId != null && !workerId.matches("[A-Za-z0-9._-]{1,64}")) {
      throw OptionChecks.invalid(spec, "--worker-id", workerId, "must be 1-64 letters, digits, '.', '_' or '-'");
    }
    ShadowWorker w;
    try {
      w = ShadowWorker.start(workerId != null ? workerId : "shadow-" + ProcessHandle.current().pid(), controlPlane,
          System.getenv("PENUMBRA_SHADOW_TOKEN"), slots != null ? slots : 2, cfg, System.err::println);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    } catch (PenumbraServer.ListenException e) {
      System.err.println(e.getMessage());
      return CommandLine.ExitCode.USAGE;
    }
    CountDownLatch done = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      w.close();
      done.countDown();
    });
    Runtime.getRuntime().addShutdownHook(hook);
    System.out.println("Penumbra shadow worker " + w.id() + " at " + w.url() + " for " + controlPlane);
    System.out.flush();
    if (duration == null) {
      done.await();
    } else if (!done.await((long) (duration * 1000), TimeUnit.MILLISECONDS)) {
      Runtime.getRuntime().removeShutdownHook(hook);
      w.close();
    }
    return 0;
  }

  private static void summary(DemoWorkload w) {
    System.err.println("demo: " + w.steps() + " steps, " + w.failures() + " failed " + w.stepsByCapability());
  }

  static Duration seconds(double s) {
    return Duration.ofMillis((long) (s * 1000));
  }
}
