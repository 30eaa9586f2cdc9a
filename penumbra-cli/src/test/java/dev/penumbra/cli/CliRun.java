package dev.penumbra.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/**
 * One run of the {@code penumbra} command line in this JVM: its exit code, what it printed on stdout, and on
 * stderr (picocli's own error stream included). Runs are serialised because stdout and stderr are global.
 */
record CliRun(int code, String out, String err) {

  static synchronized CliRun run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    StringWriter cliErr = new StringWriter();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      CommandLine cli = Main.commandLine();
      cli.setErr(new PrintWriter(cliErr, true));
      int code = cli.execute(args);
      return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8) + cliErr);
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }
}
