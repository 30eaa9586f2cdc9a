package dev.penumbra.eval.cluster;

import dev.penumbra.cluster.ClusterPeer;
import dev.penumbra.cluster.ClusterReplicaMain;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Three (or N) ledger replicas, each its own JVM on 127.0.0.1, started from this JVM's class path. Each
 * reports its status on stdout; each dies with {@code kill -9}; each exits when this JVM closes its stdin.
 */
final class ReplicaProcesses implements AutoCloseable {

  /** The last status line of one replica. */
  record Status(String role, String leader, long term, long commit, long applied, long sequence) {}

  /** The replicas' JVM options unless -Dpenumbra.replica.jvmArgs says otherwise. */
  static final String DEFAULT_JVM_ARGS = "-Xmx256m -XX:+UseSerialGC";

  /** A change of one replica's role, term or readiness as a leader, stamped with its {@link System#nanoTime()}. */
  record RoleEvent(String id, String role, long term, boolean ready, long nanos) {}

  private final java.util.concurrent.ConcurrentLinkedQueue<RoleEvent> roleEvents =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  private final Path root;
  private final List<ClusterPeer> peers;
  private final Map<String, Process> processes = new LinkedHashMap<>();
  private final Map<String, Status> status = new java.util.concurrent.ConcurrentHashMap<>();
  /** When each replica's current process said it was listening ({@link System#nanoTime()}). */
  private final Map<String, Long> ready = new java.util.concurrent.ConcurrentHashMap<>();

  private final boolean fsync;

  private final java.time.Duration electionTimeout;

  /** Further options for every replica's {@code ClusterReplicaMain}. */
  private final List<String> extraArgs;

  ReplicaProcesses(Path root, int n, boolean fsync, java.time.Duration electionTimeout) throws IOException {
    this(root, n, fsync, electionTimeout, List.of());
  }

  /**
   * @param extraArgs further options for every replica's {@code ClusterReplicaMain} ({@code --stages} is given
   *     per replica by {@link #stagesFile})
   */
  ReplicaProcesses(Path root, int n, boolean fsync, java.time.Duration electionTimeout, List<String> extraArgs)
      throws IOException {
    this(root, n, fsync, electionTimeout, extraArgs, 0);
  }

  /**
   * @param inThisJvm how many of the first peers are not started as processes (the caller runs them itself)
   */
  ReplicaProcesses(Path root, int n, boolean fsync, java.time.Duration electionTimeout, List<String> extraArgs,
      int inThisJvm) throws IOException {
    this.root = root;
    this.extraArgs = List.copyOf(extraArgs);
    this.fsync = fsync;
    this.electionTimeout = electionTimeout;
    List<ClusterPeer> ps = new ArrayList<>();
    java.util.Set<Integer> ports = new java.util.HashSet<>();
    for (int i = 0; i < n; i++) {
      int port = freePort();
      for (int tries = 0; !ports.add(port) && tries < 100; tries++) {
        port = freePort(); // the system may hand out a port just released again
      }
      ps.add(new ClusterPeer("r" + i, "127.0.0.1", port, root.resolve("r" + i)));
    }
    this.peers = List.copyOf(ps);
    for (ClusterPeer p : peers.subList(inThisJvm, n)) {
      start(p.id());
    }
  }

  List<ClusterPeer> peers() {
    return peers;
  }

  /** Starts (or restarts, keeping its data directory) the replica {@code id}. */
  void start(String id) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    String peerList = peers.stream().map(p -> p.id() + "=" + p.address()).collect(Collectors.joining(","));
    List<String> cmd = new ArrayList<>(List.of(java));
    // The replicas' JVM options (heap, collector, Ratis' logs at INFO) can be replaced for measuring designs by
    // giving this JVM -Dpenumbra.replica.jvmArgs="..."; never needed to run the bench.
    cmd.addAll(List.of(System.getProperty("penumbra.replica.jvmArgs", DEFAULT_JVM_ARGS).trim().split("\\s+")));
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ClusterReplicaMain.class.getName(),
        "--self", id, "--peers", peerList, "--data-root", root.toString(),
        "--election-timeout-ms", Long.toString(electionTimeout.toMillis())));
    if (!fsync) {
      cmd.add("--no-fsync");
    }
    for (String a : extraArgs) {
      cmd.add(a);
      if (a.equals("--stages")) {
        cmd.add(stagesFile(id).toString());
      }
    }
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.redirectError(ProcessBuilder.Redirect.appendTo(root.resolve(id + ".log").toFile()));
    Process p = pb.start();
    processes.put(id, p);
    status.remove(id);
    ready.remove(id);
    Thread.ofPlatform().daemon().name("status-" + id).start(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          String[] f = line.split(" ");
          if (f.length == 2 && f[0].equals("ready") && processes.get(id) == p) {
            ready.put(id, System.nanoTime());
          } else if (f.length == 5 && f[0].equals("role")) {
            roleEvents.add(new RoleEvent(id, f[1], Long.parseLong(f[2]), Boolean.parseBoolean(f[3]),
                Long.parseLong(f[4])));
          } else if (f.length == 7 && f[0].equals("status") && processes.get(id) == p) {
            status.put(id, new Status(f[1], f[2].equals("-") ? null : f[2], Long.parseLong(f[3]),
                Long.parseLong(f[4]), Long.parseLong(f[5]), Long.parseLong(f[6])));
          }
        }
      } catch (IOException | RuntimeException e) {
        // the process is gone
      }
    });
  }

  /** The role changes seen since {@code fromNanos}, in the order they arrived. */
  List<RoleEvent> roleEventsSince(long fromNanos) {
    return roleEvents.stream().filter(e -> e.nanos() >= fromNanos).toList();
  }

  /** Where replica {@code id} writes its commit stages when started with {@code --stages} among the extra args. */
  Path stagesFile(String id) {
    return root.resolve(id + "-stages.txt");
  }

  /** {@code kill -9} of the replica's process; waits until it is gone. */
  void kill9(String id) throws IOException, InterruptedException {
    Process p = processes.get(id);
    Process kill = new ProcessBuilder("kill", "-9", Long.toString(p.pid())).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IOException("kill -9 " + p.pid() + " failed");
    }
    p.waitFor();
    status.remove(id);
  }

  /** CPU time used so far by the live replica processes, in nanoseconds. */
  long cpuNanos() {
    long sum = 0;
    for (Process p : processes.values()) {
      sum += p.toHandle().info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
    }
    return sum;
  }

  /** CPU time used so far by the replica's current process, in nanoseconds (0 when it was never started). */
  long cpuNanos(String id) {
    Process p = processes.get(id);
    return p == null ? 0 : p.toHandle().info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
  }

  boolean alive(String id) {
    return processes.get(id).isAlive();
  }

  /** The replica that says it is the leader, with the highest term; null when none does. */
  String leader() {
    String best = null;
    long term = -1;
    for (Map.Entry<String, Status> e : status.entrySet()) {
      if (e.getValue().role().equals("LEADER") && alive(e.getKey()) && e.getValue().term() > term) {
        best = e.getKey();
        term = e.getValue().term();
      }
    }
    return best;
  }

  /** When the replica's current process said it was listening ({@link System#nanoTime()}); null before. */
  Long readyNanos(String id) {
    return ready.get(id);
  }

  Status status(String id) {
    return status.get(id);
  }

  @Override
  public void close() {
    for (Process p : processes.values()) {
      try {
        p.getOutputStream().close();
      } catch (IOException e) {
        // it is going anyway
      }
    }
    for (Process p : processes.values()) {
      try {
        if (!p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
