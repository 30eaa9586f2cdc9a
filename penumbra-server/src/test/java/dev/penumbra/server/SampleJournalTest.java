package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Resources;
import dev.penumbra.core.predict.Features;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;

/** The query model's sample journal: what is appended reads back, compaction keeps only later samples, bad files. */
class SampleJournalTest {
  static final List<String> NAMES = List.of("a", "b");

  static Features f(double a, double b) {
    return Features.builder().put("a", a).put("b", b).build();
  }

  @Test
  void appendedSamplesReadBackInOrderAndCompactionKeepsOnlyTheLaterOnes(@TempDir Path dir) throws Exception {
    Path file = SampleJournal.fileOf(dir, "query");
    try (SampleJournal j = SampleJournal.start(file, "query", NAMES, 0, List.of())) {
      for (int i = 1; i <= 5; i++) {
        j.append(f(i, 0.1 * i), Resources.of(10L * i, 1000L * i));
      }
      assertThat(j.seq()).isEqualTo(5);
      SampleJournal.Content c = SampleJournal.read(file, "query", NAMES);
      assertThat(c.from()).isZero();
      assertThat(c.entries()).extracting(SampleJournal.Entry::seq).containsExactly(1L, 2L, 3L, 4L, 5L);
      assertThat(c.entries().get(2).features()).isEqualTo(f(3, 0.30000000000000004));
      assertThat(c.entries().get(4).actual()).isEqualTo(Resources.of(50, 5000));
      j.compact(3);
      j.append(f(6, 6), Resources.of(60, 6000));
      c = SampleJournal.read(file, "query", NAMES);
      assertThat(c.from()).isEqualTo(3);
      assertThat(c.entries()).extracting(SampleJournal.Entry::seq).containsExactly(4L, 5L, 6L);
      assertThat(c.last()).isEqualTo(6);
    }
    // A start keeps what is still to replay and appends after it.
    SampleJournal.Content before = SampleJournal.read(file, "query", NAMES);
    try (SampleJournal j = SampleJournal.start(file, "query", NAMES, 4, before.entries())) {
      assertThat(j.seq()).isEqualTo(6);
      j.append(f(7, 7), Resources.of(70, 7000));
    }
    assertThat(SampleJournal.read(file, "query", NAMES).entries()).extracting(SampleJournal.Entry::seq)
        .containsExactly(5L, 6L, 7L);
  }

  @Test
  void aLastLineCutShortByAKillIsDropped(@TempDir Path dir) throws Exception {
    Path file = SampleJournal.fileOf(dir, "query");
    try (SampleJournal j = SampleJournal.start(file, "query", NAMES, 0, List.of())) {
      j.append(f(1, 1), Resources.of(1, 1));
      j.append(f(2, 2), Resources.of(2, 2));
    }
    String text = Files.readString(file);
    Files.writeString(file, text.substring(0, text.length() - 7));
    assertThat(SampleJournal.read(file, "query", NAMES).entries()).extracting(SampleJournal.Entry::seq)
        .containsExactly(1L);
  }

  static final String HEADER =
      "{\"formatVersion\": 1, \"capability\": \"query\", \"features\": [\"a\", \"b\"], \"from\": 0}\n";

  static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> badFiles() {
    return java.util.stream.Stream.of(
        org.junit.jupiter.params.provider.Arguments.of("zero-length", "", "is empty"),
        org.junit.jupiter.params.provider.Arguments.of("garbage", "\u0001\u0002garbage\nmore\n", "line 1 is not JSON"),
        org.junit.jupiter.params.provider.Arguments.of("wrong format version", HEADER.replace("\"formatVersion\": 1",
            "\"formatVersion\": 2"), "format version 2"),
        org.junit.jupiter.params.provider.Arguments.of("other features", HEADER.replace("[\"a\", \"b\"]", "[\"a\"]"),
            "the model now computes [a, b]"),
        org.junit.jupiter.params.provider.Arguments.of("truncated header", "{\"formatVersion\": 1",
            "no complete header line"),
        org.junit.jupiter.params.provider.Arguments.of("a gap",
            HEADER + "{\"seq\": 2, \"f\": [1, 2], \"a\": [1, 1, 0, 0]}\n", "seq must be 1, was 2"),
        org.junit.jupiter.params.provider.Arguments.of("a bad value",
            HEADER + "{\"seq\": 1, \"f\": [1, \"x\"], \"a\": [1, 1, 0, 0]}\n", "feature 'b' is \"x\""),
        org.junit.jupiter.params.provider.Arguments.of("a negative actual",
            HEADER + "{\"seq\": 1, \"f\": [1, 2], \"a\": [1, -5, 0, 0]}\n", "memory must be a whole number >= 0"));
  }

  @ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.MethodSource("badFiles")
  void aFileThatIsNotAJournalIsUnreadableNamingTheFileAndTheReason(String what, String text, String reason,
      @TempDir Path dir) throws Exception {
    Path file = SampleJournal.fileOf(dir, "query");
    Files.write(file, text.getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> SampleJournal.read(file, "query", NAMES)).isInstanceOf(SampleJournal.Unreadable.class)
        .hasMessageContaining("journal-query.jsonl").hasMessageContaining(reason);
  }
}
