package dev.penumbra.server;

import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.core.util.JsonGeneratorDelegate;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import java.io.IOException;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The product's one JSON mapper, and the HTTP edge's helpers around it. Everything Penumbra writes as JSON (HTTP
 * API, CLI and benchmark output) goes through {@link #MAPPER}: keys are camelCase (record component names as they
 * are, no naming strategy), NaN and infinities are written as {@code null} (JSON has neither), field order is the
 * declaration order, days and instants are ISO-8601 text. Reading is strict: unknown fields, trailing tokens, nulls for numbers and numbers for text
 * are refused. See docs/architecture.md, "JSON".
 */
public final class Json {
  public static final ObjectMapper MAPPER = JsonMapper.builder(
          new JsonFactoryBuilder().addDecorator((factory, generator) -> new FiniteNumbers(generator)).build())
      // Two values for one field: which one the client meant is unknowable, so neither is taken.
      .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
      .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
      // Days and instants as ISO-8601 text (2024-01-31, 2024-01-31T12:00:00Z), as the routes write them.
      .addModule(new com.fasterxml.jackson.databind.module.SimpleModule("iso-time")
          .addSerializer(java.time.LocalDate.class, com.fasterxml.jackson.databind.ser.std.ToStringSerializer.instance)
          .addSerializer(java.time.Instant.class, com.fasterxml.jackson.databind.ser.std.ToStringSerializer.instance))
      .build();

  private static final ObjectWriter PRETTY = MAPPER.writerWithDefaultPrettyPrinter();

  static {
    // A number or boolean where text is expected is a client mistake, not something to convert silently.
    var text = MAPPER.coercionConfigFor(com.fasterxml.jackson.databind.type.LogicalType.Textual);
    for (var shape : List.of(CoercionInputShape.Integer, CoercionInputShape.Float, CoercionInputShape.Boolean)) {
      text.setCoercion(shape, CoercionAction.Fail);
    }
    // ... and text where a number or boolean is expected ("partitions": "2") likewise.
    for (var type : List.of(com.fasterxml.jackson.databind.type.LogicalType.Integer,
        com.fasterxml.jackson.databind.type.LogicalType.Float, com.fasterxml.jackson.databind.type.LogicalType.Boolean)) {
      MAPPER.coercionConfigFor(type).setCoercion(CoercionInputShape.String, CoercionAction.Fail)
          .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
    }
  }

  private Json() {}

  /** {@code value} as indented JSON, for a person or a file (CLI {@code --format json}). */
  public static String pretty(Object value) {
    try {
      return PRETTY.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot write " + value.getClass().getSimpleName() + " as JSON: "
          + e.getOriginalMessage(), e);
    }
  }

  /** Writes NaN and infinities as null wherever a number is written: records, maps and trees alike. */
  private static final class FiniteNumbers extends JsonGeneratorDelegate {
    FiniteNumbers(JsonGenerator d) {
      super(d, true);
    }

    @Override
    public void writeNumber(double v) throws IOException {
      if (Double.isFinite(v)) {
        super.writeNumber(v);
      } else {
        writeNull();
      }
    }

    @Override
    public void writeNumber(float v) throws IOException {
      if (Float.isFinite(v)) {
        super.writeNumber(v);
      } else {
        writeNull();
      }
    }
  }

  /**
   * Reads the request body as {@code type}; a body over {@code maxBytes} is 413, malformed JSON, an unknown
   * field or a value of the wrong type is 400 naming the field and the value.
   */
  public static <T> T read(Context ctx, Class<T> type, long maxBytes) {
    byte[] body;
    try {
      body = ctx.bodyInputStream().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
    } catch (IOException e) {
      throw new ApiException(400, "(body)", "", "cannot read the request body: " + e.getMessage());
    }
    if (body.length > maxBytes) {
      Edge.drain(ctx);
      throw new ApiException(413, "(body)", "> " + maxBytes + " bytes", "request body larger than " + maxBytes
          + " bytes");
    }
    if (body.length == 0) {
      throw new ApiException(400, "(body)", "", "request body is empty; a JSON object is expected");
    }
    try {
      T value = MAPPER.readValue(body, type);
      if (value == null) {
        throw new ApiException(400, "(body)", "null", "request body must be a JSON object, was null");
      }
      return value;
    } catch (UnrecognizedPropertyException e) {
      String known = e.getKnownPropertyIds().stream().map(Object::toString).sorted()
          .collect(Collectors.joining(", "));
      throw new ApiException(400, path(e), e.getPropertyName(), "unknown field '" + path(e) + "' ("
          + (known.isEmpty() ? "the body takes no fields: send {}" : "known: " + known) + ")");
    } catch (InvalidFormatException e) {
      // The value as the client wrote it (an overflowing 1e400 comes back as 1e400, not as a double's Infinity).
      String sent = valueAt(body, e);
      if (sent.isEmpty()) {
        sent = String.valueOf(e.getValue());
      }
      throw new ApiException(400, path(e), sent, "field '" + path(e) + "' has an invalid value '" + sent
          + "' (expected " + jsonType(e.getTargetType()) + ")");
    } catch (MismatchedInputException e) {
      String f = path(e);
      // Jackson's own text names Java types; the client wrote JSON, so the message speaks JSON.
      String sent = valueAt(body, e);
      throw new ApiException(400, f.isEmpty() ? "(body)" : f, sent, f.isEmpty()
          ? "request body must be a JSON object"
          : "field '" + f + "' has the wrong type (expected " + jsonType(e.getTargetType())
              + (sent.isEmpty() ? ")" : ", was " + sent + ")"));
    } catch (JsonMappingException e) {
      // A record constructor refused a value (IllegalArgumentException names the field and value).
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof ApiException api) {
        throw api;
      }
      if (cause instanceof StreamReadException read) {
        // A token the parser refused inside a collection (NaN, a number past its type): name where it was.
        throw unreadable(read, path(e));
      }
      throw new ApiException(400, path(e).isEmpty() ? "(body)" : path(e), valueAt(body, e),
          firstLine(cause.getMessage()));
    } catch (StreamReadException e) {
      String m = firstLine(e.getOriginalMessage());
      if (m.startsWith("Duplicate field")) {
        String field = m.replaceAll("^Duplicate field '(.*)'.*$", "$1");
        throw new ApiException(400, field, "", "field '" + field + "' appears more than once");
      }
      throw unreadable(e, "");
    } catch (JsonProcessingException e) {
      throw new ApiException(400, "(body)", "", "malformed JSON: " + firstLine(e.getOriginalMessage()));
    } catch (IOException e) {
      throw new ApiException(400, "(body)", "", "cannot read the request body: " + e.getMessage());
    }
  }

  private static final java.util.regex.Pattern QUOTED = java.util.regex.Pattern.compile("'([^']{1,100})'");
  private static final java.util.regex.Pattern RANGE =
      java.util.regex.Pattern.compile("Numeric value \\(([^)]{1,400})\\) out of range of (\\w+)");

  /**
   * What the parser could not read, at the field where it stopped: {@code NaN} or {@code Infinity} (not JSON
   * numbers), a number past its type's range, or malformed text. Jackson's own wording (feature names in
   * backticks) is not passed on.
   */
  static ApiException unreadable(StreamReadException e, String mappedPath) {
    String field = e.getProcessor() instanceof JsonParser p ? contextPath(p.getParsingContext()) : "";
    if (field.isEmpty()) {
      field = mappedPath.isEmpty() ? "(body)" : mappedPath;
    }
    String m = firstLine(e.getOriginalMessage());
    int marker = m.indexOf(" (start marker");
    if (marker > 0) {
      m = m.substring(0, marker);
    }
    if (m.startsWith("Unexpected end-of-input")) {
      // A truncated body: no one field is at fault.
      return new ApiException(400, "(body)", "", "malformed JSON: the body ends before its JSON value does");
    }
    String where = field.equals("(body)") ? "" : " at field '" + field + "'";
    var range = RANGE.matcher(m);
    if (range.find()) {
      String type = range.group(2);
      return new ApiException(400, field, range.group(1), "field '" + field + "' is out of range: " + range.group(1)
          + " (expected " + (type.equals("int") ? "an integer in [-2147483648, 2147483647]" : type.equals("long")
              ? "an integer in [-9223372036854775808, 9223372036854775807]" : "a smaller number") + ")");
    }
    var quoted = QUOTED.matcher(m);
    if (m.startsWith("Non-standard token") && quoted.find()) {
      return new ApiException(400, field, quoted.group(1), "malformed JSON" + where + ": " + quoted.group(1)
          + " is not a JSON number");
    }
    String sent = quoted.find(0) ? quoted.group(1) : "";
    return new ApiException(400, field, sent, "malformed JSON" + where + ": " + m.replaceAll(" *\\(?[^()]*`[^`]*`[^()]*\\)?", ""));
  }

  /** The parser's position as a field path ({@code records[0].partition}); empty at the top level. */
  static String contextPath(com.fasterxml.jackson.core.JsonStreamContext ctx) {
    List<com.fasterxml.jackson.core.JsonStreamContext> chain = new java.util.ArrayList<>();
    for (var c = ctx; c != null && !c.inRoot(); c = c.getParent()) {
      chain.add(0, c);
    }
    StringBuilder b = new StringBuilder();
    for (var c : chain) {
      if (c.inObject()) {
        if (c.getCurrentName() == null) {
          break;
        }
        b.append(b.isEmpty() ? "" : ".").append(c.getCurrentName());
      } else if (c.inArray()) {
        b.append('[').append(Math.max(0, c.getCurrentIndex())).append(']');
      }
    }
    return b.toString();
  }

  /** What the client sent at the exception's path, as JSON text ({@code "2"} for a string); empty when unknown. */
  static String valueAt(byte[] body, JsonMappingException e) {
    try {
      String number = numberAt(body, path(e));
      if (number != null) {
        return number;
      }
      JsonNode n = MAPPER.readTree(body);
      for (JsonMappingException.Reference r : e.getPath()) {
        if (n == null) {
          return "";
        }
        n = r.getFieldName() != null ? n.get(r.getFieldName()) : n.get(r.getIndex());
      }
      return n == null ? "" : n.toString();
    } catch (IOException | RuntimeException unreadable) {
      return "";
    }
  }

  /**
   * The number at {@code path} as the client wrote it ({@code 1e400}, not the Infinity a double would hold, nor
   * a reformatted {@code 1.0E308}); null when the value there is not a number.
   */
  private static String numberAt(byte[] body, String path) throws IOException {
    if (path.isEmpty()) {
      return null;
    }
    try (JsonParser p = MAPPER.getFactory().createParser(body)) {
      for (var t = p.nextToken(); t != null; t = p.nextToken()) {
        if (t.isNumeric() && contextPath(p.getParsingContext()).equals(path)) {
          return p.getText();
        }
      }
    }
    return null;
  }

  /** The field path in one style everywhere: {@code records[0].value}. */
  static String path(JsonMappingException e) {
    StringBuilder b = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        b.append(b.isEmpty() ? "" : ".").append(r.getFieldName());
      } else {
        b.append('[').append(r.getIndex()).append(']');
      }
    }
    return b.toString();
  }

  /** The JSON kind of value a Java target type takes, for messages that name no Java class. */
  static String jsonType(Class<?> t) {
    if (t == null) {
      return "another type";
    }
    if (t == int.class || t == long.class || t == short.class || t == Integer.class || t == Long.class
        || t == Short.class || t == java.math.BigInteger.class) {
      return "an integer";
    }
    if (Number.class.isAssignableFrom(t) || t == double.class || t == float.class) {
      return "a number";
    }
    if (t == Boolean.class || t == boolean.class) {
      return "true or false";
    }
    if (CharSequence.class.isAssignableFrom(t) || t.isEnum()) {
      return "a string";
    }
    if (t.isArray() || java.util.Collection.class.isAssignableFrom(t)) {
      return "an array";
    }
    return "an object";
  }

  private static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }

  /** {@code saved} read as {@code type}; an IllegalArgumentException naming what is wrong otherwise. */
  public static <T> T convert(JsonNode saved, com.fasterxml.jackson.core.type.TypeReference<T> type, String what) {
    try {
      return MAPPER.treeToValue(saved, MAPPER.getTypeFactory().constructType(type));
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot read saved " + what + ": " + firstLine(e.getMessage()), e);
    }
  }

  /** The longest value an error echoes: a client's 5,000-character id comes back cut, not twice in full. */
  static final int MAX_ECHO = 200;

  /** The error body every 4xx and 5xx carries; values the client sent are echoed up to {@link #MAX_ECHO} characters. */
  public static ObjectNode error(int status, String message, String field, String value) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("status", status);
    n.put("error", cut(message, 5 * MAX_ECHO));
    if (field != null) {
      n.put("field", cut(field, MAX_ECHO));
      n.put("value", cut(value, MAX_ECHO));
    }
    return n;
  }

  private static String cut(String s, int max) {
    return s == null || s.length() <= max ? s : s.substring(0, max) + "... (" + s.length() + " characters)";
  }
}
