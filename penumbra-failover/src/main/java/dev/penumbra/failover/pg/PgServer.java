package dev.penumbra.failover.pg;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One PostgreSQL server on this machine: its own data directory, socket directory and port on 127.0.0.1. A
 * primary archives its WAL to a {@link WalArchive} lineage; a standby streams from its primary (synchronous once
 * named in the primary's {@code synchronous_standby_names}).
 *
 * <p>Fencing is permanent: a fenced server is killed (SIGKILL) if alive, gets a {@code standby.signal} in its data
 * directory (so were its postmaster ever started again by anyone, it would come up read-only) and refuses
 * {@link #start()}; the {@link Endpoint} never routes to it.
 */
public final class PgServer {

  private static volatile Path template;

  private final PgBinaries bin;
  private final String name;
  private final Path dir;
  private final int port;
  private volatile boolean fenced;

  private PgServer(PgBinaries bin, String name, Path dir, int port) {
    this.bin = bin;
    this.name = name;
    this.dir = dir;
    this.port = port;
  }

  /** A fresh cluster under {@code dir} (which must not exist), archiving to {@code archive}'s {@code lineage}. */
  static PgServer newPrimary(PgBinaries bin, Path dir, String name, WalArchive archive, String lineage)
      throws IOException, InterruptedException {
    return newPrimary(bin, dir, name, archive, lineage, PortRange.ANY);
  }

  /** As above, listening on a port of {@code ports}. */
  static PgServer newPrimary(PgBinaries bin, Path dir, String name, WalArchive archive, String lineage,
      PortRange ports) throws IOException, InterruptedException {
    PgServer s = prepare(bin, dir, name, ports);
    PgBinaries.run(List.of("cp", "-a", template(bin).resolve("data").toString(), s.data().toString()), 120);
    archive.open(lineage, bin);
    s.appendConf("postgresql.conf", "archive_command = '" + archive.archiveCommand(lineage) + "'\n");
    s.start();
    try (Connection c = s.connect(); Statement st = c.createStatement()) {
      st.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm");
    } catch (SQLException e) {
      throw new IOException("creating pg_prewarm on " + s + ": " + e.getMessage(), e);
    }
    return s;
  }

  /** A streaming standby of {@code primary} under {@code dir}: base backup with {@code -R}, then started. */
  static PgServer newStandby(PgBinaries bin, PgServer primary, Path dir, String name, PortRange ports)
      throws IOException, InterruptedException {
    PgServer s = prepare(bin, dir, name, ports);
    bin.runPg(List.of(bin.bin("pg_basebackup").toString(), "-h", "127.0.0.1", "-p", Integer.toString(primary.port),
        "-U", "postgres", "-D", s.data().toString(), "-R", "-X", "stream", "-c", "fast", "--no-sync"), 120);
    s.start();
    return s;
  }

  /**
   * A server restored from {@code archive}: {@code lineage}'s base backup, then archive recovery of every archived
   * segment (latest timeline); it ends recovery and opens for writes when the archive runs out.
   */
  static PgServer restore(PgBinaries bin, WalArchive archive, String lineage, Path dir, String name,
      PortRange ports) throws IOException, InterruptedException {
    PgServer s = prepare(bin, dir, name, ports);
    if (!Files.isDirectory(archive.base(lineage))) {
      throw new IllegalStateException("no base backup of '" + lineage + "' in " + archive.dir());
    }
    PgBinaries.run(List.of("cp", "-a", archive.base(lineage).toString(), s.data().toString()), 120);
    s.appendConf("postgresql.auto.conf", "restore_command = '" + archive.restoreCommand(lineage) + "'\n"
        + "recovery_target_timeline = 'latest'\n");
    Files.deleteIfExists(s.data().resolve("standby.signal"));
    Files.writeString(s.data().resolve("recovery.signal"), "");
    bin.own(s.data().resolve("recovery.signal"));
    s.start();
    return s;
  }

  private static PgServer prepare(PgBinaries bin, Path dir, String name, PortRange ports)
      throws IOException, InterruptedException {
    if (Files.exists(dir)) {
      throw new IllegalArgumentException("server directory '" + dir + "' already exists");
    }
    // The port first: without one, nothing is created.
    int port = ports.take();
    Files.createDirectories(dir.resolve("socket"));
    PgBinaries.run(List.of("chmod", "755", dir.toString()), 30);
    bin.own(dir);
    return new PgServer(bin, name, dir, port);
  }

  /** One initdb per JVM; every server copies it (initdb costs seconds on a loaded machine). */
  private static synchronized Path template(PgBinaries bin) throws IOException, InterruptedException {
    if (template != null) {
      return template;
    }
    Path t = Files.createTempDirectory("penumbra-pg-template-");
    PgBinaries.run(List.of("chmod", "755", t.toString()), 30);
    bin.own(t);
    bin.runPg(List.of(bin.bin("initdb").toString(), "-D", t.resolve("data").toString(), "-U", "postgres",
        "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C", "--wal-segsize=1"), 120);
    // Replication from 127.0.0.1 is trusted by initdb's pg_hba.conf. fsync off: the failures simulated are process
    // deaths (kill -9), which lose no page cache; a node's disk is treated as lost after its failure anyway.
    Files.writeString(t.resolve("data").resolve("postgresql.conf"), """

        # penumbra failover
        listen_addresses = '127.0.0.1'
        wal_level = replica
        max_wal_senders = 10
        hot_standby = on
        wal_keep_size = '64MB'
        fsync = off
        shared_buffers = '32MB'
        max_connections = 40
        synchronous_commit = on
        archive_mode = on
        archive_timeout = 1
        wal_sender_timeout = '5s'
        wal_receiver_status_interval = '1s'
        # A standby whose primary was just fenced retries its WAL sources after this pause; a promotion arriving
        # in it waited the default 5 s before ending recovery ("waiting for WAL to become available").
        wal_retrieve_retry_interval = '50ms'
        """, StandardOpenOption.APPEND);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(t)));
    template = t;
    return t;
  }

  private void appendConf(String file, String text) throws IOException {
    Files.writeString(data().resolve(file), "\n" + text, StandardOpenOption.APPEND);
  }

  Path data() {
    return dir.resolve("data");
  }

  public String name() {
    return name;
  }

  public int port() {
    return port;
  }

  public boolean fenced() {
    return fenced;
  }

  /** Starts the postmaster and waits until it accepts connections. */
  void start() throws IOException, InterruptedException {
    if (fenced) {
      throw new IllegalStateException(this + " is fenced: it must never run as a primary again");
    }
    bin.runPg(List.of(bin.bin("pg_ctl").toString(), "-D", data().toString(), "-l",
        dir.resolve("server.log").toString(), "-w", "-t", "120", "-o",
        "-p " + port + " -k " + dir.resolve("socket") + " -c cluster_name=" + name, "start"), 150);
  }

  /** The postmaster's process id from {@code postmaster.pid}, if it has one. */
  public Optional<Long> pid() {
    try {
      List<String> lines = Files.readAllLines(data().resolve("postmaster.pid"), StandardCharsets.UTF_8);
      return lines.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(lines.get(0).trim()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** Whether its postmaster process is alive (a zombie, killed but not yet reaped, is not). */
  public boolean alive() {
    return pid().map(PgServer::running).orElse(false);
  }

  /**
   * Whether process {@code pid} exists and is not a zombie. A killed postmaster (daemonised by pg_ctl, so not our
   * child) stays a zombie until init reaps it, which can take seconds in a container; waiting for that would add
   * seconds to every failover.
   */
  static boolean running(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      int close = stat.lastIndexOf(')');
      return close > 0 && close + 2 < stat.length() && stat.charAt(close + 2) != 'Z';
    } catch (IOException e) {
      return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
  }

  /** Whether it accepts a TCP connection on its port within {@code timeoutMillis}. */
  public boolean listening(int timeoutMillis) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), timeoutMillis);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** SIGKILL to the postmaster (a crash, as a failing disk or machine would cause); waits for it to be gone. */
  public void kill9() throws InterruptedException {
    Optional<ProcessHandle> p = pid().flatMap(ProcessHandle::of);
    if (p.isEmpty() || !p.get().isAlive()) {
      return;
    }
    if (!running(p.get().pid())) {
      return;
    }
    List<ProcessHandle> children = children(p.get());
    p.get().destroyForcibly();
    // Its backends notice the postmaster's death and exit on their own within milliseconds; a fence cannot wait
    // for "milliseconds", so they are killed with it, at once.
    children.forEach(ProcessHandle::destroyForcibly);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (running(p.get().pid())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("postmaster of " + this + " survived SIGKILL for 10 s");
      }
      Thread.sleep(1);
    }
  }

  /**
   * The postmaster's child processes, from the kernel's own list ({@code /proc/PID/task/PID/children}; the
   * postmaster is single-threaded): {@link ProcessHandle#children()} reads every process of the machine, which on a
   * loaded machine made it a noticeable part of the fence.
   */
  private static List<ProcessHandle> children(ProcessHandle p) {
    try {
      String list = Files.readString(Path.of("/proc", Long.toString(p.pid()), "task", Long.toString(p.pid()),
          "children"));
      List<ProcessHandle> out = new ArrayList<>();
      for (String pid : list.trim().split("\\s+")) {
        if (!pid.isEmpty()) {
          ProcessHandle.of(Long.parseLong(pid)).ifPresent(out::add);
        }
      }
      return out;
    } catch (IOException | NumberFormatException e) {
      return new ArrayList<>(p.children().toList());
    }
  }

  /**
   * Fences it for good: killed if alive, marked so that a restart by anyone comes up read-only, and refused by
   * {@link #start()} and the {@link Endpoint}.
   */
  void fence() throws InterruptedException, IOException {
    fenced = true;
    kill9();
    if (Files.isDirectory(data())) {
      // PostgreSQL only checks that the file exists: no chown (a process spawn) on the failover's critical path.
      Files.writeString(data().resolve("standby.signal"), "");
      Files.deleteIfExists(data().resolve("recovery.signal"));
    }
  }

  /**
   * Promotes a standby and waits until it accepts writes. Its synchronous_standby_names was cleared when it was
   * provisioned (the driver does it), so it does not wait for a standby. {@code pg_promote(true)} checks for the end
   * of recovery only every 100 ms; polling {@code pg_is_in_recovery()} every 5 ms on the open connection hands the
   * node to its clients up to 100 ms sooner.
   */
  void promote() throws SQLException, InterruptedException {
    try (Connection c = connect()) {
      promote(c);
    }
  }

  /** As {@link #promote()}, on a connection to this server opened earlier (no backend start on the move's path). */
  void promote(Connection c) throws SQLException, InterruptedException {
    try (Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT pg_promote(false)")) {
        if (!rs.next() || !rs.getBoolean(1)) {
          throw new SQLException("pg_promote() on " + this + " was refused");
        }
      }
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (true) {
        try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
          rs.next();
          if (!rs.getBoolean(1)) {
            return;
          }
        }
        if (System.nanoTime() > deadline) {
          throw new SQLException("pg_promote() on " + this + " did not complete in 60 s");
        }
        Thread.sleep(5);
      }
    }
  }

  /** Writes stop waiting for a standby (an inherited or removed synchronous standby name is cleared). */
  static void clearSynchronousStandby(Statement st) throws SQLException {
    st.execute("ALTER SYSTEM RESET synchronous_standby_names");
    st.execute("SELECT pg_reload_conf()");
  }

  boolean inRecovery() throws SQLException {
    try (Connection c = connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  /** The last {@code lines} lines of its server log (for error messages). */
  String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(dir.resolve("server.log"), StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** {@code jdbc:postgresql://127.0.0.1:PORT/postgres} as user postgres, with short connect/login timeouts. */
  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres&connectTimeout=2&loginTimeout=3"
        + "&tcpKeepAlive=true";
  }

  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl());
  }

  /** Stops it (fast shutdown) if alive. */
  void stop() throws IOException, InterruptedException {
    if (alive()) {
      bin.runPg(List.of(bin.bin("pg_ctl").toString(), "-D", data().toString(), "-m", "fast", "-w", "-t", "60",
          "stop"), 90);
    }
  }

  /** Stops or kills it and deletes its directory. */
  void destroy() {
    try {
      try {
        stop();
      } catch (IOException e) {
        kill9();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    delete(dir);
  }

  static void delete(Path d) {
    try {
      PgBinaries.run(List.of("rm", "-rf", d.toString()), 60);
    } catch (IOException e) {
      // Best effort: a temporary directory left behind is harmless.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "PostgreSQL '" + name + "' at 127.0.0.1:" + port;
  }
}
