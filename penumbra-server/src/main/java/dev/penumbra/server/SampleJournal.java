package dev.penumbra.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.core.Resources;
import dev.penumbra.core.predict.Features;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The samples a model learned since its saved state, one JSON line each ({@code journal-<capability>.jsonl} under
 * {@code server.dataDir}; docs/server.md, "Persistence"), so a {@code kill -9} loses none of them: the model file is
 * rewritten only when the model is retrained, and the samples learned in between would otherwise die with the process.
 *
 * <p>The first line is a header {@code {"formatVersion": 1, "capability", "features": [...], "from": F}}; then each
 * sample {@code {"seq": n, "f": [values in the header's feature order], "a": [cpu, memory, io, network]}} with
 * {@code n = F+1, F+2, ...}. Samples are numbered for the life of the data directory; the saved model records the
 * number of the last sample its window holds, and a start replays the later ones. Each append is written and
 * fsynced ({@code force(false)}) before it returns, so a sample is on disk before the query that taught it is answered;
 * {@link #bulk} turns that off while a start re-feeds many samples at once (one fsync at the end). Saving the model
 * compacts the journal: it is rewritten atomically with only the samples after the model's.
 *
 * <p>A last line cut short (a write the kill interrupted, never acknowledged) is dropped; anything else that does not
 * read is {@link Unreadable}, and the caller falls back to what the other files hold.
 */
final class SampleJournal implements AutoCloseable {
  static final int FORMAT_VERSION = 1;

  /** One journaled sample. */
  record Entry(long seq, Features features, Resources actual) {}

  /** What a journal file held: the number of the sample before its first, and its samples in order. */
  record Content(long from, List<Entry> entries) {
    long last() {
      return entries.isEmpty() ? from : entries.get(entries.size() - 1).seq();
    }
  }

  /** The file cannot be read as a journal of these features; the message names the file and the reason. */
  static final class Unreadable extends Exception {
    Unreadable(Path file, String reason) {
      super(file.getFileName() + ": " + reason);
    }
  }

  private final Path file;
  private final String capability;
  private final List<String> features;
  /** Lines after the header (sample number, text), kept to rewrite the file at compaction. */
  private final ArrayDeque<Object[]> lines = new ArrayDeque<>();
  private FileChannel channel;
  private long from;
  private long seq;
  private boolean bulk;

  private SampleJournal(Path file, String capability, List<String> features) {
    this.file = file;
    this.capability = capability;
    this.features = List.copyOf(features);
  }

  /** The journal file of {@code capability} in {@code dir}. */
  static Path fileOf(Path dir, String capability) {
    return dir.resolve("journal-" + capability + ".jsonl");
  }

  /**
   * Reads a journal (null when there is none).
   *
   * @throws Unreadable when it is empty, not a journal, of another format version, capability or feature list, or a
   *     sample line is malformed or out of order (a cut-short last line is not: it is dropped)
   */
  static Content read(Path file, String capability, List<String> features) throws Unreadable {
    if (!Files.exists(file)) {
      return null;
    }
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new Unreadable(file, "cannot be read (" + e.getMessage() + ")");
    } catch (RuntimeException e) {
      throw new Unreadable(file, "is not UTF-8 text");
    }
    if (text.isEmpty()) {
      throw new Unreadable(file, "is empty (a journal starts with its header line)");
    }
    String[] all = text.split("\n", -1);
    // The text after the last newline is a write cut short by a kill: it was never acknowledged.
    int complete = all.length - 1;
    if (complete < 1) {
      throw new Unreadable(file, "has no complete header line");
    }
    JsonNode header = parse(file, all[0], 1);
    int version = header.path("formatVersion").asInt(-1);
    if (version != FORMAT_VERSION) {
      throw new Unreadable(file, "has format version " + version + ", this server reads version " + FORMAT_VERSION);
    }
    if (!capability.equals(header.path("capability").asText())) {
      throw new Unreadable(file, "is the journal of '" + header.path("capability").asText() + "', not of '"
          + capability + "'");
    }
    List<String> names = new ArrayList<>();
    header.path("features").forEach(n -> names.add(n.asText()));
    if (!names.equals(features)) {
      throw new Unreadable(file, "holds samples of the features " + names + ", the model now computes " + features);
    }
    JsonNode fromNode = header.get("from");
    if (fromNode == null || !fromNode.canConvertToExactIntegral() || fromNode.asLong() < 0) {
      throw new Unreadable(file, "header field 'from' must be a number >= 0, was " + fromNode);
    }
    long from = fromNode.asLong();
    List<Entry> entries = new ArrayList<>();
    int dims = Resources.Dimension.values().length;
    for (int i = 1; i < complete; i++) {
      JsonNode n = parse(file, all[i], i + 1);
      long seq = n.path("seq").asLong(-1);
      JsonNode f = n.path("f");
      JsonNode a = n.path("a");
      long expected = from + entries.size() + 1;
      if (seq != expected) {
        throw new Unreadable(file, "line " + (i + 1) + ": seq must be " + expected + ", was " + n.path("seq"));
      }
      if (!f.isArray() || f.size() != features.size() || !a.isArray() || a.size() != dims) {
        throw new Unreadable(file, "line " + (i + 1) + ": needs " + features.size() + " feature values and " + dims
            + " actuals");
      }
      try {
        Features.Builder fb = Features.builder();
        for (int k = 0; k < features.size(); k++) {
          if (!f.get(k).isNumber()) {
            throw new IllegalArgumentException("feature '" + features.get(k) + "' is " + f.get(k));
          }
          fb.put(features.get(k), f.get(k).asDouble());
        }
        Resources actual = Resources.ZERO;
        for (Resources.Dimension d : Resources.Dimension.values()) {
          JsonNode v = a.get(d.ordinal());
          if (!v.canConvertToExactIntegral() || v.asLong() < 0) {
            throw new IllegalArgumentException(d.label() + " must be a whole number >= 0, was " + v);
          }
          actual = actual.with(d, v.asLong());
        }
        entries.add(new Entry(seq, fb.build(), actual));
      } catch (IllegalArgumentException e) {
        throw new Unreadable(file, "line " + (i + 1) + ": " + e.getMessage());
      }
    }
    return new Content(from, entries);
  }

  private static JsonNode parse(Path file, String line, int number) throws Unreadable {
    try {
      JsonNode n = Json.MAPPER.readTree(line);
      if (n == null || !n.isObject()) {
        throw new Unreadable(file, "line " + number + " is not a JSON object");
      }
      return n;
    } catch (IOException e) {
      throw new Unreadable(file, "line " + number + " is not JSON (" + e.getMessage().lines().findFirst().orElse("")
          + ")");
    }
  }

  /**
   * Starts the journal at {@code file} afresh: rewritten atomically with a header {@code from} and {@code keep} (the
   * samples after {@code from} still to replay at a later start), then opened for appending from the last of them.
   */
  static SampleJournal start(Path file, String capability, List<String> features, long from, List<Entry> keep) {
    SampleJournal j = new SampleJournal(file, capability, features);
    synchronized (j) {
      j.seq = from;
      for (Entry e : keep) {
        if (e.seq() > from) {
          j.lines.addLast(new Object[] {e.seq(), j.line(e.seq(), e.features(), e.actual())});
          j.seq = e.seq();
        }
      }
      j.rewrite(from);
    }
    return j;
  }

  /** The number of the last sample appended. */
  synchronized long seq() {
    return seq;
  }

  /** How many samples the file holds after its header. */
  synchronized int size() {
    return lines.size();
  }

  /** While on, appends are not fsynced one by one; turning it off fsyncs what was appended. */
  synchronized void bulk(boolean on) {
    bulk = on;
    if (!on) {
      force();
    }
  }

  /** Appends one sample and (unless in bulk) fsyncs it. */
  synchronized void append(Features f, Resources actual) {
    long n = seq + 1;
    String text = line(n, f, actual);
    try {
      ByteBuffer b = ByteBuffer.wrap((text + "\n").getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) {
        channel.write(b);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to " + file + ": " + e.getMessage(), e);
    }
    if (!bulk) {
      force();
    }
    seq = n;
    lines.addLast(new Object[] {n, text});
  }

  /** The model's saved state holds every sample up to {@code upTo}: the journal keeps only the later ones. */
  synchronized void compact(long upTo) {
    if (upTo <= from) {
      return;
    }
    while (!lines.isEmpty() && (long) lines.peekFirst()[0] <= upTo) {
      lines.removeFirst();
    }
    rewrite(Math.min(upTo, seq));
  }

  private String line(long n, Features f, Resources actual) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("seq", n);
    ArrayNode fs = o.putArray("f");
    for (String name : features) {
      fs.add(f.get(name));
    }
    ArrayNode as = o.putArray("a");
    for (Resources.Dimension d : Resources.Dimension.values()) {
      as.add(actual.get(d));
    }
    return o.toString();
  }

  private void rewrite(long newFrom) {
    ObjectNode h = Json.MAPPER.createObjectNode();
    h.put("formatVersion", FORMAT_VERSION);
    h.put("capability", capability);
    ArrayNode names = h.putArray("features");
    features.forEach(names::add);
    h.put("from", newFrom);
    StringBuilder text = new StringBuilder(h.toString()).append('\n');
    for (Object[] l : lines) {
      text.append((String) l[1]).append('\n');
    }
    closeChannel();
    DataDir.writeAtomically(file, text.toString());
    from = newFrom;
    try {
      channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + file + " to append: " + e.getMessage(), e);
    }
  }

  private void force() {
    try {
      channel.force(false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot sync " + file + ": " + e.getMessage(), e);
    }
  }

  private void closeChannel() {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // Nothing unsynced is left in it: every append was forced or the file is rewritten next.
      }
      channel = null;
    }
  }

  @Override
  public synchronized void close() {
    if (channel != null && bulk) {
      force();
    }
    closeChannel();
  }
}
