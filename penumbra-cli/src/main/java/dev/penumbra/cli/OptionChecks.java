package dev.penumbra.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * The option checks the commands share, written once: each refusal is picocli's usage error naming the option, the
 * value and the rule ({@code Invalid value for option '--seconds': '0.0' (must be in (0, 600])}), so a command
 * checks its options in one line each and says only what is its own.
 */
final class OptionChecks {
  private OptionChecks() {}

  /** The usage error for {@code option} given {@code value}, saying {@code why}. */
  static ParameterException invalid(CommandSpec spec, String option, String value, String why) {
    return new ParameterException(spec.commandLine(),
        String.format(Locale.ROOT, "Invalid value for option '%s': '%s' (%s)", option, value, why));
  }

  /** {@code --format}: table or json. */
  static void format(CommandSpec spec, String format) {
    oneOf(spec, "--format", format, "table", "json");
  }

  /** {@code value} is one of {@code allowed}. */
  static void oneOf(CommandSpec spec, String option, String value, String... allowed) {
    if (!List.of(allowed).contains(value)) {
      throw invalid(spec, option, value, "not one of " + String.join(", ", allowed));
    }
  }

  /** A whole number in {@code [min, max]}. */
  static void between(CommandSpec spec, String option, long value, long min, long max) {
    if (value < min || value > max) {
      throw invalid(spec, option, Long.toString(value), "must be in " + min + ".." + max);
    }
  }

  /** A whole number of at least {@code min}. */
  static void atLeast(CommandSpec spec, String option, long value, long min) {
    if (value < min) {
      throw invalid(spec, option, Long.toString(value), "must be >= " + min);
    }
  }

  /** A finite number above 0. */
  static void positive(CommandSpec spec, String option, double value) {
    if (!(value > 0 && Double.isFinite(value))) {
      throw invalid(spec, option, shown(value), "must be > 0");
    }
  }

  /** A number in {@code (0, max]} (NaN refused). */
  static void positiveUpTo(CommandSpec spec, String option, double value, double max) {
    if (!(value > 0) || value > max) {
      throw invalid(spec, option, Double.toString(value), "must be in (0, " + shown(max) + "]");
    }
  }

  /** A number in {@code [0, max]} (NaN refused). */
  static void notNegativeUpTo(CommandSpec spec, String option, double value, double max) {
    if (!(value >= 0) || value > max) {
      throw invalid(spec, option, Double.toString(value), "must be in [0, " + shown(max) + "]");
    }
  }

  /** A comma-separated list of whole numbers, each ({@code what}) in {@code [min, max]}. */
  static List<Integer> ints(CommandSpec spec, String option, String text, String what, int min, int max) {
    List<Integer> out = new ArrayList<>();
    for (String part : text.split(",", -1)) {
      int n;
      try {
        n = Integer.parseInt(part.strip());
      } catch (NumberFormatException e) {
        throw invalid(spec, option, text, "'" + part + "' is not a number");
      }
      if (n < min || n > max) {
        throw invalid(spec, option, text, "each " + what + " must be in " + min + ".." + max + ", was " + n);
      }
      out.add(n);
    }
    return out;
  }

  /** Numbers as picocli split them (its {@code split = ","}); each must parse. */
  static List<Double> numbers(CommandSpec spec, String option, List<String> parts) {
    List<Double> out = new ArrayList<>();
    for (String part : parts) {
      try {
        out.add(Double.parseDouble(part.strip()));
      } catch (NumberFormatException e) {
        throw invalid(spec, option, String.join(",", parts), "'" + part.strip() + "' is not a number");
      }
    }
    return out;
  }

  /** Numbers as picocli split them, each ({@code what}) in {@code (0, max]}. */
  static List<Double> positives(CommandSpec spec, String option, List<String> parts, String what, double max) {
    List<Double> out = numbers(spec, option, parts);
    for (int i = 0; i < out.size(); i++) {
      double v = out.get(i);
      if (!(v > 0) || v > max) {
        throw invalid(spec, option, String.join(",", parts),
            "each " + what + " must be in (0, " + shown(max) + "], was " + parts.get(i).strip());
      }
    }
    return out;
  }

  /** Load levels as a comma-separated list, each in {@code (0, max]}, or {@code none} (no sweep): empty. */
  static List<Double> loads(CommandSpec spec, String option, String text, double max) {
    return text.strip().equals("none") ? List.of() : positives(spec, option, List.of(text.split(",", -1)), "level", max);
  }

  /** An output file whose directory exists (it is written at the end: fail before the run, not after). */
  static void writable(CommandSpec spec, String option, Path file) {
    if (file != null && file.toAbsolutePath().getParent() != null
        && !Files.isDirectory(file.toAbsolutePath().getParent())) {
      throw invalid(spec, option, file.toString(), "its directory does not exist");
    }
  }

  /** An input directory that exists. */
  static void directory(CommandSpec spec, String option, Path dir) {
    if (!Files.isDirectory(dir)) {
      throw invalid(spec, option, dir.toString(), "no such directory");
    }
  }

  /** A number as a person writes it: whole ones without a fraction. */
  static String shown(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }
}
