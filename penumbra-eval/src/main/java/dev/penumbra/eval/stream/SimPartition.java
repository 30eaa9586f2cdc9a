package dev.penumbra.eval.stream;

import java.util.ArrayDeque;

/**
 * One partition's worker pool in trace time: a FIFO queue served by workers, each a server for the records'
 * measured costs. A worker asked for becomes available {@code startDelay} seconds later (and costs from the
 * moment it is asked for); a worker scaled away finishes its record first. Every record is processed exactly
 * once; {@link #lost()} checks it.
 */
final class SimPartition {

  private final double startDelay;
  private final LatencyHistogram latencies;
  private double[] arrivals = new double[1024];
  private double[] costs = new double[1024];
  private int head;
  private int tail;
  private double[] heap = new double[64];
  private int busy;
  private int ready;
  private int retiring;
  private final ArrayDeque<Double> starting = new ArrayDeque<>();
  private double now;
  private double workerSeconds;
  private double busySeconds;
  long accepted;
  long processed;
  long maxBacklog;
  long scalings;

  private final double scoreFrom;
  private long scored;

  SimPartition(int workers, double startDelay, LatencyHistogram latencies, double scoreFrom) {
    this.scoreFrom = scoreFrom;
    this.startDelay = startDelay;
    this.latencies = latencies;
    this.ready = workers;
  }

  int workers() {
    return ready - retiring + starting.size();
  }

  long backlog() {
    return accepted - processed;
  }

  double workerSeconds() {
    return workerSeconds;
  }

  double busySeconds() {
    return busySeconds;
  }

  void scale(int n) {
    int have = workers();
    if (n == have) {
      return;
    }
    scalings++;
    if (n > have) {
      int add = n - have;
      // Workers still retiring are kept instead of starting new ones.
      int keep = Math.min(add, retiring);
      retiring -= keep;
      for (int i = keep; i < add; i++) {
        starting.addLast(now + startDelay);
      }
      return;
    }
    int remove = have - n;
    while (remove > 0 && !starting.isEmpty()) {
      starting.removeLast();
      remove--;
    }
    int idle = ready - busy;
    int now0 = Math.min(remove, Math.max(0, idle - retiring));
    ready -= now0;
    remove -= now0;
    retiring += remove;
  }

  void arrive(double time, double cost) {
    advance(time);
    if (tail - head == arrivals.length) {
      grow();
    }
    arrivals[tail % arrivals.length] = time;
    costs[tail % arrivals.length] = cost;
    tail++;
    accepted++;
    maxBacklog = Math.max(maxBacklog, accepted - processed);
    dispatch();
  }

  /** Runs every event up to {@code to}. */
  void advance(double to) {
    while (true) {
      double next = Double.POSITIVE_INFINITY;
      boolean completion = false;
      if (busy > 0) {
        next = heap[0];
        completion = true;
      }
      if (!starting.isEmpty() && starting.peekFirst() < next) {
        next = starting.peekFirst();
        completion = false;
      }
      if (next > to) {
        break;
      }
      move(next);
      if (completion) {
        pop();
        processed++;
        if (retiring > 0) {
          retiring--;
          ready--;
        }
      } else {
        starting.removeFirst();
        ready++;
      }
      dispatch();
    }
    move(to);
  }

  private void move(double t) {
    if (t > now) {
      workerSeconds += (t - now) * (ready + starting.size());
      busySeconds += (t - now) * busy;
      now = t;
    }
  }

  private void dispatch() {
    while (ready - retiring - busy > 0 && tail > head) {
      int i = head % arrivals.length;
      head++;
      double done = now + costs[i];
      if (arrivals[i] >= scoreFrom) {
        latencies.add(done - arrivals[i]);
        scored++;
      }
      push(done);
    }
    // A retiring worker that is idle leaves at once.
    while (retiring > 0 && ready - busy > 0 && ready - busy >= retiring) {
      retiring--;
      ready--;
    }
  }

  private void grow() {
    int n = arrivals.length;
    double[] a = new double[n * 2];
    double[] c = new double[n * 2];
    for (int k = 0; k < tail - head; k++) {
      a[k] = arrivals[(head + k) % n];
      c[k] = costs[(head + k) % n];
    }
    tail -= head;
    head = 0;
    arrivals = a;
    costs = c;
  }

  private void push(double t) {
    if (busy == heap.length) {
      heap = java.util.Arrays.copyOf(heap, busy * 2);
    }
    int i = busy++;
    heap[i] = t;
    while (i > 0) {
      int p = (i - 1) / 2;
      if (heap[p] <= heap[i]) {
        break;
      }
      double x = heap[p];
      heap[p] = heap[i];
      heap[i] = x;
      i = p;
    }
  }

  private void pop() {
    heap[0] = heap[--busy];
    int i = 0;
    while (true) {
      int l = 2 * i + 1;
      int r = l + 1;
      int m = i;
      if (l < busy && heap[l] < heap[m]) {
        m = l;
      }
      if (r < busy && heap[r] < heap[m]) {
        m = r;
      }
      if (m == i) {
        break;
      }
      double x = heap[m];
      heap[m] = heap[i];
      heap[i] = x;
      i = m;
    }
  }

  /** Runs until every accepted record is processed; returns how many were not (0 unless records were lost). */
  long drain() {
    while (busy > 0 || !starting.isEmpty()) {
      double next = Double.POSITIVE_INFINITY;
      if (busy > 0) {
        next = heap[0];
      }
      if (!starting.isEmpty()) {
        next = Math.min(next, starting.peekFirst());
      }
      advance(next);
    }
    return lost();
  }

  /** Records that arrived after the warm-up (their latencies are the scored ones). */
  long scoredRecords() {
    return scored;
  }

  long lost() {
    return accepted - processed;
  }
}
