package dev.penumbra.stream;

import dev.penumbra.core.Checks;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How a shadow picks its sample from a partition.
 *
 * <ul>
 *   <li>{@link Mode#EVERY_NTH}: deterministic; record {@code i} (0-based, per partition) is taken when
 *       {@code floor((i + 1) * rate) > floor(i * rate)}, so exactly {@code floor(n * rate)} of the first
 *       {@code n} are taken, evenly spaced (every 100th at 1%).
 *   <li>{@link Mode#BERNOULLI}: each record independently with probability {@code rate}, from a
 *       {@link SplittableRandom} seeded with {@code seed} and the partition (reproducible per partition).
 *   <li>{@link Mode#KEYED}: a record is taken when the 64-bit hash of its key (UTF-8, mixed with {@code seed})
 *       mapped to [0, 1) is below {@code rate}: a key is either always or never in the sample, so per-key
 *       behaviour (order, sessions) is kept. A null key is hashed by the record's position instead.
 * </ul>
 *
 * @param mode the rule
 * @param rate the share to take, in (0, 1]
 * @param seed the seed of BERNOULLI and KEYED
 */
public record Sampling(Mode mode, double rate, long seed) {

  /** The sampling rule. */
  public enum Mode {
    EVERY_NTH,
    BERNOULLI,
    KEYED;

    /** Parses {@code every-nth}, {@code bernoulli} or {@code keyed} (case-insensitive). */
    public static Mode parse(String text) {
      for (Mode m : values()) {
        if (m.label().equalsIgnoreCase(text == null ? "" : text.trim())) {
          return m;
        }
      }
      throw new IllegalArgumentException("sampling mode must be one of every-nth, bernoulli, keyed, was '" + text + "'");
    }

    public String label() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  public Sampling {
    if (mode == null) {
      throw new IllegalArgumentException("sampling mode is missing");
    }
    Checks.share("sampling rate", rate);
  }

  public static Sampling everyNth(double rate) {
    return new Sampling(Mode.EVERY_NTH, rate, 0);
  }

  public static Sampling bernoulli(double rate, long seed) {
    return new Sampling(Mode.BERNOULLI, rate, seed);
  }

  public static Sampling keyed(double rate) {
    return new Sampling(Mode.KEYED, rate, 0);
  }

  /** A fresh sampler for one partition; not thread-safe (one per partition, used under its lock). */
  public Sampler sampler(int partition) {
    return switch (mode) {
      case EVERY_NTH -> new Sampler() {
        private long count;

        @Override
        public boolean test(String key) {
          long i = count++;
          return Math.floor((i + 1) * rate) > Math.floor(i * rate);
        }
      };
      case BERNOULLI -> new Sampler() {
        private final SplittableRandom random = new SplittableRandom(mix(seed * 31 + partition));

        @Override
        public boolean test(String key) {
          return rate >= 1 || random.nextDouble() < rate;
        }
      };
      case KEYED -> new Sampler() {
        private long count;

        @Override
        public boolean test(String key) {
          long i = count++;
          long h = key == null ? mix(i ^ seed) : keyHash(key, seed);
          return unit(h) < rate;
        }
      };
    };
  }

  /** Whether KEYED sampling at this rate and seed takes {@code key}; the same answer for every partition. */
  public static boolean keyedTakes(String key, double rate, long seed) {
    return unit(keyHash(key, seed)) < rate;
  }

  /** Decides, record by record, whether a record goes to the shadow. */
  public interface Sampler {
    boolean test(String key);
  }

  static long keyHash(String key, long seed) {
    // FNV-1a over the UTF-8 bytes, then a 64-bit finaliser: stable across JVMs (unlike String.hashCode mixing).
    long h = 0xcbf29ce484222325L ^ seed;
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return mix(h);
  }

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  private static double unit(long h) {
    return (h >>> 11) * 0x1.0p-53;
  }
}
