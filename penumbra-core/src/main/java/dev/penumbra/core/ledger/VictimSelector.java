package dev.penumbra.core.ledger;

import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.LedgerBook.Entry;
import dev.penumbra.core.ledger.Reservation.State;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Chooses which reservations to preempt: the fewest that cover the shortfall, then the cheapest. See
 * {@link Ledger#preemptionPlan} for the rule.
 */
final class VictimSelector {

  /** Up to this many candidates every subset size is searched exactly; above it the greedy choice is used. */
  static final int EXACT_LIMIT = 16;

  private VictimSelector() {}

  /**
   * @param candidates live reservations of strictly lower priority on the node
   * @param shortfall per dimension, what the free capacity lacks (may be <= 0 where nothing lacks)
   * @return the victims, or null when all candidates together do not cover the shortfall
   */
  static List<Entry> select(List<Entry> candidates, long[] shortfall, Resources capacity) {
    int n = candidates.size();
    Cand[] cs = new Cand[n];
    for (int i = 0; i < n; i++) {
      cs[i] = new Cand(candidates.get(i), capacity);
    }
    // Cheapest first, so that among equal costs the first set found is made of the cheapest and newest.
    java.util.Arrays.sort(cs, Comparator.<Cand>comparingInt(c -> c.active)
        .thenComparingInt(c -> c.rank)
        .thenComparingDouble(c -> c.share)
        .thenComparing(c -> -c.entry.r.id()));
    long[][] suffix = new long[n + 1][4];
    for (int i = n - 1; i >= 0; i--) {
      for (int d = 0; d < 4; d++) {
        suffix[i][d] = suffix[i + 1][d] + cs[i].amount[d];
      }
    }
    if (!covers(suffix[0], shortfall)) {
      return null;
    }
    return n <= EXACT_LIMIT ? exact(cs, suffix, shortfall) : greedy(cs, shortfall);
  }

  private static final class Cand {
    final Entry entry;
    final long[] amount;
    final int active;
    final int rank;
    final double share;

    Cand(Entry e, Resources capacity) {
      this.entry = e;
      Resources a = e.r.amount();
      this.amount = new long[] {a.cpuMillis(), a.memoryBytes(), a.ioBytesPerSec(), a.networkBytesPerSec()};
      this.active = e.r.state() == State.ACTIVE ? 1 : 0;
      // batch 0, standard 1, critical 2
      this.rank = dev.penumbra.core.Priority.values().length - 1 - e.r.priority().ordinal();
      this.share = a.dominantShare(capacity);
    }
  }

  private static boolean covers(long[] have, long[] need) {
    for (int d = 0; d < 4; d++) {
      if (have[d] < need[d]) {
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- exact

  private static final class Search {
    final Cand[] cs;
    final long[][] suffix;
    final long[] need;
    final int[] chosen;
    int[] best;
    int bestActive;
    int bestRank;
    double bestShare;

    Search(Cand[] cs, long[][] suffix, long[] need) {
      this.cs = cs;
      this.suffix = suffix;
      this.need = need;
      this.chosen = new int[cs.length];
    }

    void run(int k, int depth, int start, long[] have, int active, int rank, double share) {
      if (depth == k) {
        if (covers(have, need) && better(active, rank, share)) {
          best = java.util.Arrays.copyOf(chosen, k);
          bestActive = active;
          bestRank = rank;
          bestShare = share;
        }
        return;
      }
      for (int i = start; i <= cs.length - (k - depth); i++) {
        // Even everything from i on cannot cover: no set through here can.
        long[] reach = new long[4];
        for (int d = 0; d < 4; d++) {
          reach[d] = have[d] + suffix[i][d];
        }
        if (!covers(reach, need)) {
          return;
        }
        Cand c = cs[i];
        long[] next = new long[4];
        for (int d = 0; d < 4; d++) {
          next[d] = have[d] + c.amount[d];
        }
        chosen[depth] = i;
        run(k, depth + 1, i + 1, next, active + c.active, rank + c.rank, share + c.share);
      }
    }

    boolean better(int active, int rank, double share) {
      if (best == null) {
        return true;
      }
      if (active != bestActive) {
        return active < bestActive;
      }
      if (rank != bestRank) {
        return rank < bestRank;
      }
      return share < bestShare;
    }
  }

  private static List<Entry> exact(Cand[] cs, long[][] suffix, long[] need) {
    Search s = new Search(cs, suffix, need);
    for (int k = 0; k <= cs.length; k++) {
      s.run(k, 0, 0, new long[4], 0, 0, 0);
      if (s.best != null) {
        List<Entry> out = new ArrayList<>(k);
        for (int i : s.best) {
          out.add(cs[i].entry);
        }
        return out;
      }
    }
    throw new IllegalStateException("victim search found no cover although the candidates cover the shortfall");
  }

  // ---------------------------------------------------------------- greedy

  private static List<Entry> greedy(Cand[] cs, long[] need) {
    long[] missing = need.clone();
    boolean[] taken = new boolean[cs.length];
    List<Integer> chosen = new ArrayList<>();
    while (!covers(new long[4], missing)) {
      int pick = -1;
      double bestScore = -1;
      for (int i = 0; i < cs.length; i++) {
        if (taken[i]) {
          continue;
        }
        double score = 0;
        for (int d = 0; d < 4; d++) {
          if (missing[d] > 0) {
            score += (double) Math.min(cs[i].amount[d], missing[d]) / missing[d];
          }
        }
        if (score > bestScore) { // strict: ties go to the earlier (cheaper) candidate
          bestScore = score;
          pick = i;
        }
      }
      taken[pick] = true;
      chosen.add(pick);
      for (int d = 0; d < 4; d++) {
        missing[d] -= cs[pick].amount[d];
      }
    }
    // Drop victims that are not needed, the most expensive first.
    chosen.sort(Comparator.reverseOrder());
    List<Integer> kept = new ArrayList<>(chosen);
    for (Integer i : chosen) {
      long[] without = new long[4];
      for (Integer j : kept) {
        if (!j.equals(i)) {
          for (int d = 0; d < 4; d++) {
            without[d] += cs[j].amount[d];
          }
        }
      }
      if (covers(without, need)) {
        kept.remove(i);
      }
    }
    kept.sort(Comparator.naturalOrder());
    List<Entry> out = new ArrayList<>(kept.size());
    for (int i : kept) {
      out.add(cs[i].entry);
    }
    return out;
  }
}
