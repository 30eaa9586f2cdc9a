package dev.penumbra.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The {@code --format table|json} option every bench command has, declared and checked once (a picocli mixin): a
 * bad value is refused while the options are parsed, before anything runs.
 */
final class OutputFormat {

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  private String format = "table";

  @Option(names = "--format", paramLabel = "table|json", defaultValue = "table",
      description = "Output on stdout. Default: ${DEFAULT-VALUE}.")
  void format(String value) {
    OptionChecks.format(spec, value);
    this.format = value;
  }

  /** {@code table} or {@code json}. */
  String value() {
    return format;
  }

  /** True for {@code --format json}. */
  boolean json() {
    return format.equals("json");
  }
}
