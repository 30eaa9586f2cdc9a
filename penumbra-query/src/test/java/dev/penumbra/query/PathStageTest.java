package dev.penumbra.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.penumbra.core.Priority;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class PathStageTest {

  @Test
  void letsInNoMoreThanItsPermitsAndThenByPriorityBeforeArrival() throws Exception {
    PathStage stage = new PathStage(1);
    stage.enter(Priority.STANDARD);
    List<String> order = new CopyOnWriteArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      Future<?> batch = pool.submit(() -> pass(stage, Priority.BATCH, "batch", order));
      await().atMost(Duration.ofSeconds(10)).until(() -> stage.waiting() == 1);
      Future<?> standard = pool.submit(() -> pass(stage, Priority.STANDARD, "standard", order));
      await().atMost(Duration.ofSeconds(10)).until(() -> stage.waiting() == 2);
      Future<?> critical = pool.submit(() -> pass(stage, Priority.CRITICAL, "critical", order));
      await().atMost(Duration.ofSeconds(10)).until(() -> stage.waiting() == 3);
      assertThat(stage.inside()).isEqualTo(1);
      assertThat(order).isEmpty();

      stage.leave();
      batch.get();
      standard.get();
      critical.get();
      assertThat(order).containsExactly("critical", "standard", "batch");
      assertThat(stage.inside()).isZero();
      assertThat(stage.waiting()).isZero();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aWaiterInterruptedGivesUpItsPlaceAndTheNextOneGoesIn() throws Exception {
    PathStage stage = new PathStage(1);
    stage.enter(Priority.BATCH);
    CountDownLatch in = new CountDownLatch(1);
    Thread interrupted = new Thread(() -> {
      try {
        stage.enter(Priority.CRITICAL);
      } catch (InterruptedException expected) {
        Thread.currentThread().interrupt();
      }
    });
    interrupted.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> stage.waiting() == 1);
    Thread next = new Thread(() -> {
      try {
        stage.enter(Priority.BATCH);
        in.countDown();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    next.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> stage.waiting() == 2);
    interrupted.interrupt();
    interrupted.join();
    assertThat(stage.waiting()).isEqualTo(1);

    stage.leave();
    assertThat(in.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    next.join();
    assertThat(stage.inside()).isEqualTo(1);
  }

  @Test
  void refusesFewerThanOnePermit() {
    assertThatThrownBy(() -> new PathStage(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pathConcurrency").hasMessageContaining("0");
  }

  private static void pass(PathStage stage, Priority p, String name, List<String> order) {
    try {
      stage.enter(p);
      try {
        order.add(name);
      } finally {
        stage.leave();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
