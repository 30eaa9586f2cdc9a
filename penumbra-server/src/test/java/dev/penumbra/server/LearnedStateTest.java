package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A learned file that is JSON of the right version but that its capability cannot take back (a wrong type inside)
 * is set aside with a message naming the reason; the capability goes on, and what it learns from then on is saved
 * under the file's name again.
 */
class LearnedStateTest {

  /** A capability that learns one JSON value, and refuses a saved one that is not a number. */
  static final class Counter implements Capability, Capability.Learning {
    final AtomicReference<JsonNode> state = new AtomicReference<>();
    final LoopView view = LoopView.of("counter", new Timeline("n", "", 10)).ready(() -> true).build();

    @Override
    public void routes(Api api) {}

    @Override
    public void metrics(MeterRegistry registry) {}

    @Override
    public LoopView view() {
      return view;
    }

    @Override
    public void demoStep(Random random) {}

    @Override
    public Optional<JsonNode> learned() {
      return Optional.ofNullable(state.get());
    }

    @Override
    public void restoreLearned(JsonNode saved) {
      if (!saved.path("n").isNumber()) {
        throw new IllegalArgumentException("cannot read saved counter: field 'n' must be a number, was "
            + saved.path("n"));
      }
      state.set(saved);
    }

    @Override
    public void close() {}
  }

  @Test
  void aLearnedFileItsCapabilityCannotTakeBackIsSetAsideAndSavingGoesOn(@TempDir Path dir) throws Exception {
    String bad = "{\"formatVersion\": 1, \"capability\": \"counter\", \"state\": {\"n\": \"seven\"}}";
    Files.writeString(dir.resolve("learned-counter.json"), bad);
    Counter c = new Counter();
    List<String> progress = new CopyOnWriteArrayList<>();
    try (DataDir data = DataDir.open(dir); LearnedState learned = new LearnedState(data, List.of(c))) {
      learned.restore(c, progress::add);
      assertThat(progress).singleElement().satisfies(m -> assertThat(m).contains("could not restore counter")
          .contains("field 'n' must be a number, was \"seven\"").contains("kept as learned-counter.json.bad-"));
      assertThat(c.state.get()).as("started cold").isNull();
      try (var files = Files.list(dir)) {
        Path aside = files.filter(p -> p.getFileName().toString().startsWith("learned-counter.json.bad-"))
            .findFirst().orElseThrow();
        assertThat(Files.readString(aside)).isEqualTo(bad);
      }
      c.state.set(Json.MAPPER.readTree("{\"n\": 8}"));
      learned.saveAll();
      await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(dir.resolve("learned-counter.json")));
      assertThat(Json.MAPPER.readTree(Files.readString(dir.resolve("learned-counter.json"))).path("state").path("n")
          .asInt()).as("what it learns now is saved").isEqualTo(8);
    }
    // ... and put back at the next start.
    Counter again = new Counter();
    try (DataDir data = DataDir.open(dir); LearnedState learned = new LearnedState(data, List.of(again))) {
      learned.restore(again, m -> {});
      assertThat(again.state.get().path("n").asInt()).isEqualTo(8);
    }
  }
}
