package dev.penumbra.failover.pg;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The non-local storage every node reaches (it stands for network block or object storage): a WAL archive
 * ({@code wal/}, filled by the primaries' {@code archive_command}) and base backups ({@code base/NAME}). A node
 * with no standby is replaced from here: the latest base backup of its lineage plus every archived WAL segment.
 * Each primary also streams its WAL here synchronously ({@link WalReceiver}), so the archive holds every acknowledged
 * commit, not only those of finished segments.
 */
public final class WalArchive {

  private final Path dir;

  private WalArchive(Path dir) {
    this.dir = dir;
  }

  /** Creates (or reuses) an archive under {@code dir}. */
  public static WalArchive at(Path dir, PgBinaries bin) throws IOException, InterruptedException {
    Files.createDirectories(dir.resolve("wal"));
    Files.createDirectories(dir.resolve("base"));
    bin.own(dir);
    return new WalArchive(dir);
  }

  public Path dir() {
    return dir;
  }

  /** The WAL of one lineage (a logical node and whatever replaces it): segment names repeat across clusters. */
  Path wal(String lineage) {
    return dir.resolve("wal").resolve(lineage);
  }

  Path base(String name) {
    return dir.resolve("base").resolve(name);
  }

  /** The primary's archive_command: copy a finished segment unless already there (never overwrite). */
  String archiveCommand(String lineage) {
    return "test ! -f " + wal(lineage) + "/%f && cp %p " + wal(lineage) + "/%f";
  }

  /**
   * The WAL a lineage's {@link WalReceiver}s stream synchronously, one folder per primary (complete segments and the
   * current partial): a receiver on a new primary starts afresh at that primary's position, on its timeline.
   */
  Path stream(String lineage) {
    return dir.resolve("stream").resolve(lineage);
  }

  /** Archived segment, else a streamed complete segment, else a streamed partial segment (the last one). */
  String restoreCommand(String lineage) {
    String s = stream(lineage).toString();
    return "test -f " + wal(lineage) + "/%f && exec cp " + wal(lineage) + "/%f %p; "
        + "for d in " + s + "/*/; do test -f ${d}%f && exec cp ${d}%f %p; done; "
        + "for d in " + s + "/*/; do test -f ${d}%f.partial && exec cp ${d}%f.partial %p; done; exit 1";
  }

  /** Prepares the WAL folders of a lineage. */
  void open(String lineage, PgBinaries bin) throws IOException, InterruptedException {
    Files.createDirectories(wal(lineage));
    Files.createDirectories(stream(lineage));
    bin.own(dir);
  }

  /** Deletes everything of {@code lineage}: its base backup, archived and streamed WAL. */
  void delete(String lineage) {
    PgServer.delete(base(lineage));
    PgServer.delete(wal(lineage));
    PgServer.delete(stream(lineage));
  }

  /** Takes a base backup of {@code server} for {@code lineage} (replacing an older one). */
  void baseBackup(PgServer server, String lineage, PgBinaries bin) throws IOException, InterruptedException {
    Path target = base(lineage);
    if (Files.exists(target)) {
      PgBinaries.run(List.of("rm", "-rf", target.toString()), 60);
    }
    bin.runPg(List.of(bin.bin("pg_basebackup").toString(), "-h", "127.0.0.1", "-p", Integer.toString(server.port()),
        "-U", "postgres", "-D", target.toString(), "-X", "stream", "-c", "fast", "--no-sync"), 120);
  }
}
