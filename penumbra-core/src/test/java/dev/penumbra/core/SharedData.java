package dev.penumbra.core;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the shared public traces are: {@code ../shared/data} beside the project (the build passes it as the
 * {@code penumbra.data} system property). Tests that read them skip, saying why, when it is absent.
 */
public final class SharedData {

  private SharedData() {}

  /** The data root, or a skipped test when it is not there. */
  public static Path root() {
    String prop = System.getProperty("penumbra.data");
    Path p = prop != null ? Path.of(prop) : Path.of("..", "..", "shared", "data");
    assumeTrue(Files.isDirectory(p), "shared data not found at " + p.toAbsolutePath().normalize() + "; skipping");
    return p.toAbsolutePath().normalize();
  }

  /** A file or folder under the data root, or a skipped test when it is not there. */
  public static Path path(String relative) {
    Path p = root().resolve(relative);
    assumeTrue(Files.exists(p), "shared data file " + p + " not found; skipping");
    return p;
  }
}
