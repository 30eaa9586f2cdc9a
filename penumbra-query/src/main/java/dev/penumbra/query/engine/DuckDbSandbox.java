package dev.penumbra.query.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

/**
 * The DuckDB side of the SQL sandbox (docs/query.md, "Sandbox"). Two layers, both needed:
 *
 * <ol>
 *   <li>{@link #check}: DuckDB's own parser ({@code json_serialize_sql}, which serializes SELECT statements only)
 *       decides what the text is; exactly one SELECT is accepted, and its syntax tree may name no table function
 *       but {@code range}/{@code generate_series}/{@code unnest}, and no catalog function, view or setting that
 *       reveals the host ({@code duckdb_databases()}, {@code current_setting}, {@code pg_settings} ...). A text
 *       scanner cannot do this: {@code $$}, {@code E'\''} and nested comments all quote differently.
 *   <li>{@link #lock}: the instance that runs client SQL has external access off (no file, URL or glob access, no
 *       ATTACH, COPY or extension install) and its configuration locked (no SET), applied after the data is
 *       attached. Every check above may have a hole; the engine's own switches still hold.
 * </ol>
 */
public final class DuckDbSandbox {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The only table functions a query may call: they generate rows and touch nothing. */
  private static final Set<String> TABLE_FUNCTIONS = Set.of("range", "generate_series", "unnest");
  /** Scalar functions that read settings or variables (host paths live in settings) or change session state. */
  private static final Set<String> SCALAR_DENIED = Set.of("getvariable", "getenv", "setseed",
      "query", "query_table", "json_execute_serialized_sql", "json_serialize_sql", "json_deserialize_sql",
      "json_serialize_plan", "current_schemas", "which_secret", "enable_logging", "disable_logging",
      "truncate_duckdb_logs");
  /** Settings {@code current_setting} may read: the resources a query was given, nothing about the host. */
  private static final Set<String> SETTINGS_READABLE = Set.of("threads", "memory_limit", "max_memory");
  private static final Set<String> SCHEMAS_DENIED = Set.of("information_schema", "pg_catalog");
  private static final Set<String> CATALOGS_DENIED = Set.of("system", "temp");

  private DuckDbSandbox() {}

  /** Why {@link #check} refused a text: it does not parse ({@code syntax}), or it is not an allowed read. */
  public record Refusal(boolean syntax, String message) {}

  /**
   * Parses {@code sql} with the DuckDB parser on {@code c} (any DuckDB connection; nothing is executed) and says
   * why it must not run, or empty when it is exactly one SELECT that names only allowed functions and tables.
   */
  public static Optional<Refusal> check(Connection c, String sql) throws SQLException {
    try (PreparedStatement parser = parser(c)) {
      return check(parser, sql);
    }
  }

  /**
   * The statement {@link #check(PreparedStatement, String)} parses with, prepared once on {@code c} (any DuckDB
   * connection): preparing it again for every query cost about as much as the parse itself.
   */
  public static PreparedStatement parser(Connection c) throws SQLException {
    return c.prepareStatement("SELECT json_serialize_sql(?::VARCHAR)");
  }

  /** {@link #check(Connection, String)} with a {@link #parser} prepared earlier (not used by two threads at once). */
  public static Optional<Refusal> check(PreparedStatement parser, String sql) throws SQLException {
    if (sql == null || sql.isBlank()) {
      return Optional.of(new Refusal(true, "sql must not be blank"));
    }
    String text;
    parser.setString(1, sql);
    try (ResultSet r = parser.executeQuery()) {
      r.next();
      text = r.getString(1);
    }
    JsonNode tree;
    try {
      tree = JSON.readTree(text);
    } catch (IOException e) {
      throw new SQLException("DuckDB's parser returned no JSON: " + e.getMessage(), e);
    }
    if (tree.path("error").asBoolean(false)) {
      String type = tree.path("error_type").asText("");
      String msg = tree.path("error_message").asText("the statement was refused");
      if (type.equals("parser")) {
        return Optional.of(new Refusal(true, "Parser Error: " + msg));
      }
      return Optional.of(new Refusal(false,
          "only one read query (SELECT / WITH / FROM) is accepted: the statement is not a SELECT"));
    }
    JsonNode statements = tree.path("statements");
    if (statements.size() != 1) {
      return Optional.of(new Refusal(statements.isEmpty(), statements.isEmpty() ? "sql holds no statement"
          : "only one statement per query is accepted, got " + statements.size()));
    }
    java.util.Set<String> denied = new java.util.LinkedHashSet<>();
    walk(statements.get(0), denied);
    if (!denied.isEmpty()) {
      return Optional.of(new Refusal(false, "not allowed in a query: " + String.join(", ", denied)));
    }
    return Optional.empty();
  }

  private static void walk(JsonNode n, java.util.Set<String> denied) {
    if (n.isArray()) {
      n.forEach(child -> walk(child, denied));
      return;
    }
    if (!n.isObject()) {
      return;
    }
    String type = n.path("type").asText("");
    if (type.equals("TABLE_FUNCTION")) {
      String name = lower(n.path("function").path("function_name"));
      if (!TABLE_FUNCTIONS.contains(name)) {
        denied.add("table function " + name + "()");
      }
      // Its arguments may hold subqueries; its own name is checked above, not again as a scalar function.
      walk(n.path("function").path("arguments"), denied);
      walk(n.path("subquery"), denied);
      return;
    } else if (type.equals("BASE_TABLE")) {
      String name = lower(n.path("table_name"));
      if (name.startsWith("duckdb_") || name.startsWith("pragma_") || name.startsWith("pg_")
          || name.startsWith("sqlite_") || SCHEMAS_DENIED.contains(lower(n.path("schema_name")))
          || CATALOGS_DENIED.contains(lower(n.path("catalog_name"))) || name.matches(".*[/\\\\:*?.].*")) {
        denied.add("table " + name);
      }
    } else if (n.has("function_name") && n.path("class").asText("").equals("FUNCTION")) {
      String name = lower(n.path("function_name"));
      if (name.equals("current_setting")) {
        JsonNode args = n.path("arguments");
        JsonNode arg = args.size() == 1 ? args.get(0).path("expression") : null;
        String setting = arg != null && arg.path("class").asText("").equals("CONSTANT")
            ? arg.path("literal").path("text").asText("") : "";
        if (!SETTINGS_READABLE.contains(setting.toLowerCase(Locale.ROOT))) {
          denied.add("function current_setting() of a setting other than " + new java.util.TreeSet<>(SETTINGS_READABLE));
        }
      } else if (SCALAR_DENIED.contains(name) || name.startsWith("duckdb_") || name.startsWith("pragma_")
          || name.startsWith("read_")) {
        denied.add("function " + name + "()");
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      walk(it.next().getValue(), denied);
    }
  }

  private static String lower(JsonNode n) {
    return n.asText("").toLowerCase(Locale.ROOT);
  }

  /**
   * Closes the instance behind {@code c} to the host: extensions are neither installed nor loaded, external
   * access is off except under {@code allowed} (the instance's own transfer directory, if any), and the
   * configuration is locked ({@code lockConfiguration}) so no later statement changes any setting. Turning
   * external access off cannot be undone either way; leave the configuration open only where later connections
   * must still enable profiling for themselves (a replica), and only SELECTs that passed {@link #check} run there.
   * Call after everything is attached and set.
   */
  public static void lock(Connection c, List<Path> allowed, boolean lockConfiguration) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("SET autoinstall_known_extensions = false");
      s.execute("SET autoload_known_extensions = false");
      if (!allowed.isEmpty()) {
        StringBuilder list = new StringBuilder();
        for (Path p : allowed) {
          list.append(list.isEmpty() ? "" : ", ").append(literal(p.toAbsolutePath() + "/"));
        }
        s.execute("SET allowed_directories = [" + list + "]");
      }
      s.execute("SET enable_external_access = false");
      if (lockConfiguration) {
        s.execute("SET lock_configuration = true");
      }
    }
  }

  /**
   * A new in-memory DuckDB instance that has {@code file} attached read-only as {@code alias} and in use, with
   * {@code setup} statements run and then {@link #lock locked}: each call is a fresh instance, so nothing a
   * client did before (temporary objects, settings, cached pages) is visible to the next.
   */
  public static Connection openLocked(Path file, String alias, List<String> setup) throws SQLException {
    Properties p = new Properties();
    p.setProperty("autoinstall_known_extensions", "false");
    p.setProperty("autoload_known_extensions", "false");
    Connection c = DriverManager.getConnection("jdbc:duckdb:", p);
    try (Statement s = c.createStatement()) {
      s.execute("ATTACH " + literal(file.toAbsolutePath().toString()) + " AS " + alias + " (READ_ONLY)");
      s.execute("USE " + alias);
      for (String st : setup) {
        s.execute(st);
      }
      lock(c, List.of(), true);
      return c;
    } catch (SQLException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  static String literal(String s) {
    return "'" + s.replace("'", "''") + "'";
  }
}
