package dev.penumbra.query.tpch;

/**
 * A fixed pool of pseudo-sentences built from a small vocabulary; comments are random slices of it (as the
 * spec's text pool does), which is much cheaper than composing words per row.
 */
final class TextPool {
  static final String ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,";
  private static final String[] NOUNS = {
      "packages", "requests", "accounts", "deposits", "foxes", "ideas", "theodolites", "pinto beans",
      "instructions", "dependencies", "excuses", "platelets", "asymptotes", "courts", "dolphins", "multipliers",
      "sauternes", "warthogs", "frets", "dinos", "attainments", "somas", "braids", "hockey players", "decoys"};
  private static final String[] VERBS = {
      "sleep", "wake", "are", "cajole", "haggle", "nag", "use", "boost", "affix", "detect", "integrate",
      "maintain", "nod", "was", "lose", "sublate", "solve", "thrash", "promise", "engage", "hinder", "print",
      "x-ray", "breach", "eat", "grow", "impress", "mold", "poach", "serve", "run", "dazzle", "snooze", "doze"};
  private static final String[] ADJECTIVES = {
      "furious", "sly", "careful", "blithe", "quick", "fluffy", "slow", "quiet", "ruthless", "thin", "close",
      "dogged", "daring", "brave", "stealthy", "permanent", "enticing", "idle", "busy", "regular", "final",
      "ironic", "even", "bold", "silent", "express", "special", "pending", "unusual"};
  private static final String[] ADVERBS = {
      "sometimes", "always", "never", "furiously", "slyly", "carefully", "blithely", "quickly", "fluffily",
      "slowly", "quietly", "ruthlessly", "thinly", "closely", "doggedly", "daringly", "bravely", "stealthily",
      "permanently", "enticingly", "idly", "busily", "regularly", "finally", "ironically", "evenly", "boldly"};
  private static final int SIZE = 1 << 20;

  private final String pool;

  TextPool(long seed) {
    Rng r = new Rng().reseed(seed, 0, 0);
    StringBuilder b = new StringBuilder(SIZE + 200);
    while (b.length() < SIZE) {
      int shape = r.between(0, 3);
      switch (shape) {
        case 0 -> b.append(r.pick(ADJECTIVES)).append(' ').append(r.pick(NOUNS)).append(' ')
            .append(r.pick(VERBS)).append(' ').append(r.pick(ADVERBS));
        case 1 -> b.append(r.pick(NOUNS)).append(' ').append(r.pick(VERBS)).append(' ')
            .append(r.pick(ADVERBS)).append(" among the ").append(r.pick(ADJECTIVES)).append(' ')
            .append(r.pick(NOUNS));
        case 2 -> b.append(r.pick(ADVERBS)).append(' ').append(r.pick(ADJECTIVES)).append(' ')
            .append(r.pick(NOUNS)).append(' ').append(r.pick(VERBS));
        default -> b.append(r.pick(NOUNS)).append(' ').append(r.pick(VERBS)).append(" above the ")
            .append(r.pick(ADJECTIVES)).append(' ').append(r.pick(NOUNS));
      }
      b.append(r.between(0, 2) == 0 ? ". " : " ");
    }
    pool = b.substring(0, SIZE);
  }

  /** A slice of length min..max at a random offset. */
  String comment(Rng r, int min, int max) {
    int len = r.between(min, max);
    int off = r.between(0, SIZE - len);
    return pool.substring(off, off + len);
  }
}
