package dev.penumbra.eval.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.SharedData;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Reads the real public traces in shared/data and checks counts, pinned values and the grid. */
class TraceReadersRealDataTest {

  private static long readNanos;
  private static int tracesRead;
  private static long valuesRead;

  /** Reads and adds the time taken to the total that {@link #everythingReadInAFewSeconds()} reports. */
  private static List<Trace> timedRead(String relative) throws IOException {
    Path p = SharedData.path(relative);
    long t0 = System.nanoTime();
    List<Trace> traces = TraceReaders.read(p);
    readNanos += System.nanoTime() - t0;
    tracesRead += traces.size();
    for (Trace t : traces) {
      valuesRead += t.length();
    }
    return traces;
  }

  private static Map<String, Trace> byName(List<Trace> traces) {
    return traces.stream().collect(Collectors.toMap(Trace::name, Function.identity()));
  }

  private static void assertWellFormed(List<Trace> traces) {
    for (Trace t : traces) {
      assertThat(t.length()).as(t.name()).isPositive();
      for (int i = 0; i < t.length(); i++) {
        assertThat(t.value(i)).as(t.name()).isGreaterThanOrEqualTo(0);
      }
    }
  }

  @Test
  void nabAwsCloudwatch() throws IOException {
    List<Trace> traces = timedRead("nab/data/realAWSCloudwatch");
    assertThat(traces).hasSize(17);
    assertWellFormed(traces);
    assertThat(traces).allSatisfy(t -> assertThat(t.stepMillis()).isEqualTo(300_000));
    Map<String, Trace> m = byName(traces);
    Trace cpu = m.get("realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv:cpu");
    assertThat(cpu.resource()).isEqualTo(Dimension.CPU);
    assertThat(cpu.unit()).isEqualTo("percent");
    assertThat(cpu.length()).isEqualTo(4032);
    assertThat(cpu.startMillis()).isEqualTo(Instant.parse("2014-02-14T14:30:00Z").toEpochMilli());
    assertThat(cpu.value(0)).isEqualTo(0.132);
    assertThat(cpu.value(1)).isEqualTo(0.134);
    assertThat(m.get("realAWSCloudwatch/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv:network").resource())
        .isEqualTo(Dimension.NETWORK);
    assertThat(m.get("realAWSCloudwatch/ec2_disk_write_bytes_1ef3de.csv:io").resource()).isEqualTo(Dimension.IO);
    assertThat(m.get("realAWSCloudwatch/elb_request_count_8c0756.csv:cpu").unit()).isEqualTo("count");
    assertThat(traces.stream().filter(t -> t.resource() == Dimension.CPU)).hasSize(10 + 2); // cpu + 2 "count"
  }

  @Test
  void nabFileWithAnOutOfOrderRowAndALongGap() throws IOException {
    // machine_temperature has one row 55 minutes out of order; ambient_temperature has a gap of ~174 hours.
    Trace machine = TraceReaders.read(
        SharedData.path("nab/data/realKnownCause/machine_temperature_system_failure.csv")).get(0);
    assertThat(machine.stepMillis()).isEqualTo(300_000);
    assertThat(machine.unit()).isEqualTo("count");
    Trace ambient = TraceReaders.read(
        SharedData.path("nab/data/realKnownCause/ambient_temperature_system_failure.csv")).get(0);
    assertThat(ambient.stepMillis()).isEqualTo(3_600_000);
    assertThat(ambient.length()).isGreaterThan(7267); // the gaps are on the grid now
    assertWellFormed(List.of(machine, ambient));
  }

  @Test
  void bitbrainsEveryVm() throws IOException {
    List<Trace> traces = timedRead("bitbrains-rnd");
    assertThat(traces).hasSize(24 * 4);
    assertWellFormed(traces);
    assertThat(traces).allSatisfy(t -> assertThat(t.stepMillis()).isEqualTo(300_000));
    Map<String, Trace> m = byName(traces);
    Trace cpu = m.get("bitbrains-rnd/2013-7/1.csv:cpu");
    assertThat(cpu.startMillis()).isEqualTo(1_372_629_804_000L);
    assertThat(cpu.unit()).isEqualTo("MHz");
    assertThat(cpu.value(0)).isEqualTo(87.7799835);
    assertThat(cpu.value(1)).isEqualTo(29.259994499999998);
    Trace mem = m.get("bitbrains-rnd/2013-7/1.csv:memory");
    assertThat(mem.value(0)).isEqualTo(1034592.8);
    assertThat(m.get("bitbrains-rnd/2013-7/1.csv:io").value(0))
        .isCloseTo(160.86666666666667 + 21.733333333333334, within(1e-9));
    assertThat(m.get("bitbrains-rnd/2013-7/1.csv:network").value(0))
        .isCloseTo(0.26666666666666666 + 1.4666666666666666, within(1e-9));
    // 8,260 rows over ~30 days of 300 s, incl. a ~1.3-day gap carried on the grid.
    assertThat(cpu.length()).isBetween(8260, 8700);
  }

  @Test
  void alibaba2018MachineUsage() throws IOException {
    List<Trace> traces = timedRead("alibaba-v2018-sample/machine_usage.csv");
    assertThat(traces).hasSize(16 * 2);
    assertWellFormed(traces);
    assertThat(traces).allSatisfy(t -> {
      assertThat(t.stepMillis()).isEqualTo(60_000);
      assertThat(t.startMillis() % 60_000).isZero(); // one grid for all machines (anchored at 0 s here)
    });
    Map<String, Trace> m = byName(traces);
    Trace cpu = m.get("machine_usage.csv:m_1932:cpu");
    assertThat(cpu.startMillis()).isEqualTo(386_640_000L);
    assertThat(cpu.value(0)).isEqualTo(41); // 386640 s
    assertThat(cpu.value(1)).isEqualTo(43.5); // mean of 386670 s (43) and 386690 s (44)
    assertThat(m.get("machine_usage.csv:m_1932:memory").value(0)).isEqualTo(92);
    assertThat(m.get("machine_usage.csv:m_1933:memory").resource()).isEqualTo(Dimension.MEMORY);
    assertThat(cpu.timeMillis(cpu.length() - 1)).isEqualTo(691_140_000L); // last sample 691110 s: halfway, goes to the later centre
  }

  @Test
  void genAi2026PodMemoryFromTheArchive() throws IOException {
    List<Trace> traces = timedRead("alibaba-genai-v2026/pod_memory_util_anon.tar.gz");
    assertThat(traces).hasSize(207); // 208 container_ip values, one of them empty
    assertWellFormed(traces);
    assertThat(traces).allSatisfy(t -> {
      assertThat(t.resource()).isEqualTo(Dimension.MEMORY);
      assertThat(t.stepMillis()).isEqualTo(57_000);
      assertThat(t.length()).isBetween(1, 1441);
      for (double v : t.values()) {
        assertThat(v).isLessThanOrEqualTo(1.0);
      }
    });
    Trace t = byName(traces).get(
        "pod_memory_util_anon.tar.gz!pod_memory_util_anon.csv:25da09a77268ccc99a7968b3e453b8f0:memory");
    assertThat(t.startMillis()).isEqualTo(1_662_858_720_000L);
    assertThat(t.value(0)).isEqualTo(0.6623353560765585);
  }

  @AfterAll
  static void everythingReadInAFewSeconds() {
    // the four big reads above: NAB AWS, all Bitbrains VMs, the Alibaba 2018 sample, the GenAI pod memory
    long ms = readNanos / 1_000_000;
    System.out.printf("read %d traces, %d values in %d ms%n", tracesRead, valuesRead, ms);
    if (tracesRead == 17 + 96 + 32 + 207) {
      assertThat(ms).isLessThan(20_000); // a few seconds expected; generous for a loaded 2-core machine
    }
  }
}
