package dev.penumbra.ml;

import dev.penumbra.core.Futures;
import java.util.concurrent.CompletableFuture;
import org.tribuo.Dataset;
import org.tribuo.Model;
import org.tribuo.Output;
import org.tribuo.Trainer;

/**
 * Runs a Tribuo training on a new thread that ends with it. Use it for every XGBoost training in the product.
 *
 * <p>Why: XGBoost 1.6 keeps each booster's cache of data matrices in a map local to the thread that created the
 * booster, keyed by the booster's address, and erases the entry only on the thread that frees the booster. The JVM
 * frees boosters from its finalizer thread, so the creating thread keeps the entry; a later booster that lands on
 * the same address on that thread inherits it, counts the columns of a matrix another model still holds, and fails
 * with "num_feature 3 vs 2" (or trains on a wrong column count). A thread of its own starts with an empty map and
 * takes it away when it ends. Predicting is not affected: it reads that map only while a new booster configures.
 */
public final class NativeTraining {

  private NativeTraining() {}

  /**
   * {@code trainer.train(data)} on a fresh thread; the caller waits for it (not interruptibly: the native training
   * cannot be stopped, and the interrupt is kept for the caller).
   *
   * @throws RuntimeException or Error as the training threw it
   */
  public static <T extends Output<T>> Model<T> train(Trainer<T> trainer, Dataset<T> data) {
    CompletableFuture<Model<T>> result = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        result.complete(trainer.train(data));
      } catch (Throwable e) {
        result.completeExceptionally(e);
      }
    }, "penumbra-fit");
    t.setDaemon(true);
    t.start();
    return Futures.getUninterruptibly(result);
  }
}
