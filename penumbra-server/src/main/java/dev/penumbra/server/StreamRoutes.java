package dev.penumbra.server;

import dev.penumbra.stream.StreamRecord;
import io.javalin.http.HandlerType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The streams' HTTP routes: {@code /v1/streams} (create, list), {@code /v1/streams/{name}/records} (produce),
 * {@code /v1/streams/{name}/plan} and {@code DELETE /v1/streams/{name}}. Every body is checked whole before
 * anything happens, and a bad field is a 400 naming it and its value.
 */
final class StreamRoutes {
  static final Pattern NAME_PATTERN = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  static final int MAX_PARTITIONS = 16;
  static final int MAX_BATCH = 10_000;
  static final int MAX_VALUE_CHARS = 4096;
  static final double MIN_SAMPLE_RATE = 0.001;

  /** The body of {@code POST /v1/streams}. */
  record CreateBody(String name, java.math.BigInteger partitions, Double sampleRate) {}

  /** One record of {@code POST /v1/streams/{name}/records}; no partition: by the key's hash. */
  record RecordBody(Integer partition, String key, String value) {}

  /** The body of {@code POST /v1/streams/{name}/records}. */
  record ProduceBody(List<RecordBody> records) {}

  /** A checked {@link CreateBody}. */
  record NewStream(String name, int partitions, double sampleRate) {}

  private StreamRoutes() {}

  /** {@code POST /v1/streams/{name}/records}: how many records the stream took. */
  record Accepted(String stream, int accepted) {}

  /** {@code DELETE /v1/streams/{name}}: the reservations the stream gave back. */
  record Deleted(String stream, boolean deleted, int released) {}

  static void register(Api api, StreamCapability streams, ServerConfig config) {
    api.command(HandlerType.POST, "/v1/streams", ctx -> {
      CreateBody b = Json.read(ctx, CreateBody.class, config.server().maxBodyBytes());
      ctx.status(201).json(streams.create(check(b)).describe());
    });
    api.get("/v1/streams", ctx -> {
      ctx.json(streams.handles().stream().map(StreamHandle::describe).toList());
    });
    api.command(HandlerType.POST, "/v1/streams/{name}/records", ctx -> {
      // The body is checked first: a malformed request is 400 whichever stream it names.
      ProduceBody b = Json.read(ctx, ProduceBody.class, config.server().maxBodyBytes());
      StreamHandle h = streams.handle(ctx.pathParam("name"));
      int n = streams.produce(h, records(h, b));
      ctx.status(202).json(new Accepted(h.name, n));
    });
    api.get("/v1/streams/{name}/plan", ctx -> ctx.json(streams.plan(streams.handle(ctx.pathParam("name")))));
    api.command(HandlerType.DELETE, "/v1/streams/{name}", ctx -> {
      int released = streams.delete(ctx.pathParam("name"));
      ctx.json(new Deleted(ctx.pathParam("name"), true, released));
    });
  }

  /** Checks a create body; defaults: 1 partition, a 10% sample. */
  static NewStream check(CreateBody b) {
    if (b.name() == null || !NAME_PATTERN.matcher(b.name()).matches()) {
      throw new ApiException(400, "name", String.valueOf(b.name()),
          "field 'name' must be 1-64 of [A-Za-z0-9._-], was '" + b.name() + "'");
    }
    // Any integer is read as sent, so a huge one is told the bound that matters, [1, 16], not Java's int range.
    java.math.BigInteger sent = b.partitions() == null ? java.math.BigInteger.ONE : b.partitions();
    if (sent.signum() < 1 || sent.compareTo(java.math.BigInteger.valueOf(MAX_PARTITIONS)) > 0) {
      throw new ApiException(400, "partitions", sent.toString(),
          "field 'partitions' must be in [1, " + MAX_PARTITIONS + "], was " + sent);
    }
    int partitions = sent.intValueExact();
    double rate = b.sampleRate() == null ? 0.1 : b.sampleRate();
    // Below a thousandth the shadow would see almost nothing, and one sampled record would stand for an infinite rate.
    if (!(rate >= MIN_SAMPLE_RATE) || rate > 1) {
      throw new ApiException(400, "sampleRate", String.valueOf(rate),
          "field 'sampleRate' must be in [" + MIN_SAMPLE_RATE + ", 1], was " + rate);
    }
    return new NewStream(b.name(), partitions, rate);
  }

  /** Checks every record of a produce body (nothing is submitted when one is bad) and places it on a partition. */
  static List<StreamRecord> records(StreamHandle h, ProduceBody b) {
    if (b.records() == null || b.records().isEmpty()) {
      throw new ApiException(400, "records", String.valueOf(b.records()), "field 'records' must be a non-empty list");
    }
    if (b.records().size() > MAX_BATCH) {
      throw new ApiException(400, "records", b.records().size() + " records", "field 'records' may hold at most "
          + MAX_BATCH + " records");
    }
    int parts = h.partitions();
    List<StreamRecord> batch = new ArrayList<>(b.records().size());
    for (int i = 0; i < b.records().size(); i++) {
      RecordBody r = b.records().get(i);
      if (r == null) {
        throw new ApiException(400, "records[" + i + "]", "null", "records[" + i + "] must be an object");
      }
      if (r.value() == null || r.value().length() > MAX_VALUE_CHARS) {
        throw new ApiException(400, "records[" + i + "].value", String.valueOf(r.value()), "field 'records[" + i
            + "].value' must be a string of at most " + MAX_VALUE_CHARS + " characters");
      }
      int p;
      if (r.partition() != null) {
        p = r.partition();
        if (p < 0 || p >= parts) {
          throw new ApiException(400, "records[" + i + "].partition", Integer.toString(p), "field 'records[" + i
              + "].partition' must be in [0, " + (parts - 1) + "] for stream '" + h.name + "', was " + p);
        }
      } else {
        p = r.key() == null ? i % parts : Math.floorMod(r.key().hashCode(), parts);
      }
      batch.add(new StreamRecord(p, r.key(), r.value().getBytes(StandardCharsets.UTF_8)));
    }
    return batch;
  }
}
