package dev.penumbra.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs one ledger replica as its own process, for the process-level failover benchmark and test:
 * {@code --self ID --peers ID=HOST:PORT,... --data-root DIR [--no-fsync] [--election-timeout-ms MS]
 * [--stages FILE] [--raft KEY=VALUE]... [--bare]}; with {@code --bare} it is Ratis alone with a state machine that
 * applies nothing ({@link ClusterReplica#startBare}). It prints a status line every 100 ms on stdout
 * ({@code status ROLE LEADER TERM COMMIT APPLIED SEQUENCE}) and exits when its stdin closes, so it never
 * outlives the process that started it. Each change of its role or term, and the moment it leads and is ready to
 * serve, is printed too ({@code role ROLE TERM READY NANOS}; a leader's at once, a candidate's within 5 ms), stamped
 * with {@link System#nanoTime()}, which every process on one Linux machine shares: a harness cuts the time to a new
 * leader into the failure detector, the election, the new leader's first commit and the client. With
 * {@code --stages} it times the stages of each commit it leads and writes them, with Ratis' own timers, to FILE
 * when its stdin closes.
 */
public final class ClusterReplicaMain {

  private ClusterReplicaMain() {}

  public static void main(String[] args) throws Exception {
    String self = null;
    String peers = null;
    Path root = null;
    boolean fsync = true;
    boolean bare = false;
    Duration electionTimeout = ClusterConfig.DEFAULT_ELECTION_TIMEOUT;
    Path stagesFile = null;
    java.util.Map<String, String> raft = new java.util.LinkedHashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      if (args[i].equals("--no-fsync") || args[i].equals("--bare")) {
        fsync &= !args[i].equals("--no-fsync");
        bare |= args[i].equals("--bare");
        i--;
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("option '" + args[i] + "' needs a value");
      }
      switch (args[i]) {
        case "--self" -> self = args[i + 1];
        case "--peers" -> peers = args[i + 1];
        case "--data-root" -> root = Path.of(args[i + 1]);
        case "--stages" -> stagesFile = Path.of(args[i + 1]);
        case "--raft" -> {
          String kv = args[i + 1];
          int eq = kv.indexOf('=');
          if (eq < 1 || !(kv.startsWith("raft.") || kv.startsWith(ClusterReplica.STAGGER + "="))) {
            throw new IllegalArgumentException("--raft must be raft.KEY=VALUE, was '" + kv + "'");
          }
          raft.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        case "--election-timeout-ms" -> {
          try {
            electionTimeout = Duration.ofMillis(Long.parseLong(args[i + 1]));
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--election-timeout-ms must be a number, was '" + args[i + 1] + "'");
          }
        }
        default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
      }
    }
    if (self == null || peers == null || root == null) {
      throw new IllegalArgumentException("--self, --peers and --data-root are required, got " + List.of(args));
    }
    ClusterConfig config = new ClusterConfig(self, parsePeers(peers, root), electionTimeout,
        ClusterConfig.DEFAULT_SNAPSHOT_EVERY, fsync);
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    if (bare && stagesFile != null) {
      throw new IllegalArgumentException("--stages needs the ledger: not with --bare");
    }
    try (ClusterReplica replica = bare ? ClusterReplica.startBare(config, raft) : ClusterReplica.start(config, raft)) {
      CommitStages stages = stagesFile == null ? null : new CommitStages(200_000);
      if (!bare) {
        replica.machine().recordStages(stages);
      }
      out.println("ready " + self);
      Thread status = Thread.ofPlatform().daemon().start(() -> {
        while (true) {
          ClusterStatus s = replica.status();
          out.printf(Locale.ROOT, "status %s %s %d %d %d %d%n", s.role(), s.leader() == null ? "-" : s.leader(),
              s.term(), s.commitIndex(), s.appliedIndex(), s.ledgerSequence());
          try {
            Thread.sleep(Duration.ofMillis(100));
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      // The moments Ratis tells the state machine of are stamped as they happen; a follower turning candidate
      // has no such hook and is seen by the watcher within 5 ms (when the machine gives it a core).
      String me = self;
      replica.onLeaderEvents(e -> {
        long now = System.nanoTime();
        String[] r = replica.roleLine().split(" ");
        if (e.equals("ready")) {
          out.println("role LEADER " + r[1] + " true " + now);
        } else if (e.equals("leader " + me)) {
          out.println("role LEADER " + r[1] + " false " + now);
        }
      });
      Thread roles = Thread.ofPlatform().daemon().name("role-watch").start(() -> watchRole(replica, out));
      InputStream in = System.in;
      while (in.read() >= 0) {
        // wait for the parent to close stdin (or die)
      }
      status.interrupt();
      roles.interrupt();
      if (stages != null) {
        stages.write(stagesFile);
      }
    } catch (IOException e) {
      System.err.println("replica " + self + " failed: " + e);
      System.exit(2);
    }
    System.exit(0);
  }

  /**
   * Prints a {@code role} line at each change of this replica's role, term or leader readiness, checked every
   * 5 ms: the parts of a failover are hundreds of milliseconds, the 100 ms status period is too coarse for them,
   * and Ratis has no hook for a follower turning candidate (a finer poll would wake three JVMs a thousand times a
   * second on the cores their commits need).
   */
  private static void watchRole(ClusterReplica replica, PrintStream out) {
    String last = "";
    while (!Thread.currentThread().isInterrupted()) {
      String now = replica.roleLine();
      if (!now.equals(last)) {
        out.println("role " + now + " " + System.nanoTime());
        last = now;
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Parses {@code id=host:port,...}; each peer's data directory is {@code root/id}. */
  public static List<ClusterPeer> parsePeers(String text, Path root) {
    List<ClusterPeer> out = new ArrayList<>();
    for (String part : text.split(",")) {
      String p = part.trim();
      int eq = p.indexOf('=');
      int colon = p.lastIndexOf(':');
      if (eq < 1 || colon < eq + 2 || colon == p.length() - 1) {
        throw new IllegalArgumentException("peer '" + p + "' is not id=host:port");
      }
      String id = p.substring(0, eq);
      int port;
      try {
        port = Integer.parseInt(p.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("port of peer '" + p + "' is not a number");
      }
      out.add(new ClusterPeer(id, p.substring(eq + 1, colon), port, root.resolve(id)));
    }
    return out;
  }
}
