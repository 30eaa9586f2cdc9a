package dev.penumbra.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class FuturesTest {

  @Test
  void returnsTheResult() {
    assertEquals("done", Futures.getUninterruptibly(CompletableFuture.completedFuture("done")));
    assertFalse(Thread.currentThread().isInterrupted());
  }

  @Test
  void rethrowsTheWorksUncheckedExceptionAndError() {
    IllegalArgumentException thrown = new IllegalArgumentException("bad");
    assertSame(thrown, assertThrows(IllegalArgumentException.class,
        () -> Futures.getUninterruptibly(CompletableFuture.failedFuture(thrown))));
    AssertionError error = new AssertionError("boom");
    assertSame(error, assertThrows(AssertionError.class,
        () -> Futures.getUninterruptibly(CompletableFuture.failedFuture(error))));
    IOException checked = new IOException("disk");
    IllegalStateException wrapped = assertThrows(IllegalStateException.class,
        () -> Futures.getUninterruptibly(CompletableFuture.failedFuture(checked)));
    assertSame(checked, wrapped.getCause());
  }

  @Test
  void anInterruptDoesNotEndTheWaitAndIsKept() throws Exception {
    CompletableFuture<String> work = new CompletableFuture<>();
    CountDownLatch waiting = new CountDownLatch(1);
    AtomicReference<String> got = new AtomicReference<>();
    AtomicBoolean interruptKept = new AtomicBoolean();
    Thread caller = new Thread(() -> {
      Thread.currentThread().interrupt(); // already interrupted when it starts waiting
      waiting.countDown();
      got.set(Futures.getUninterruptibly(work));
      interruptKept.set(Thread.currentThread().isInterrupted());
    });
    caller.start();
    waiting.await();
    caller.interrupt(); // and again while it waits
    work.complete("result");
    caller.join();
    assertEquals("result", got.get());
    assertTrue(interruptKept.get());
  }

  @Test
  void refusesNull() {
    assertThrows(IllegalArgumentException.class, () -> Futures.getUninterruptibly(null));
  }
}
