package dev.penumbra.cli;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The {@code --report FILE} option of the commands that write an HTML report, declared and checked once (a picocli
 * mixin): a file whose directory does not exist is refused while the options are parsed, not after the run.
 */
final class ReportFile {

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  private Path file;

  @Option(names = "--report", paramLabel = "FILE", description = "Also write the HTML report (with plots) here.")
  void file(Path value) {
    OptionChecks.writable(spec, "--report", value);
    this.file = value;
  }

  /** Writes the body of a report. */
  @FunctionalInterface
  interface Body {
    void write(Writer out) throws IOException;
  }

  /** Writes the report when {@code --report} was given. */
  void write(Body body) throws IOException {
    write(file, body);
  }

  /** Writes {@code body} to {@code file} in UTF-8 and says so on stderr; nothing when {@code file} is null. */
  static void write(Path file, Body body) throws IOException {
    if (file == null) {
      return;
    }
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      body.write(w);
    }
    System.err.println("report written to " + file);
  }
}
