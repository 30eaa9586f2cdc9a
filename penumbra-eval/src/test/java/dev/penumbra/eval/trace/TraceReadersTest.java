package dev.penumbra.eval.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import dev.penumbra.core.Resources.Dimension;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The resampling rules, the rejection of malformed files and format detection, on small hand-made files. */
class TraceReadersTest {

  @TempDir
  Path dir;

  private Path write(String name, String content) throws IOException {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content, StandardCharsets.UTF_8);
    return p;
  }

  private static double[] values(Trace t) {
    return t.values();
  }

  private static final long T0 = Instant.parse("2024-01-01T00:00:00Z").toEpochMilli();

  // ---- resampling rules

  @Test
  void unsortedRowsAreSortedByTime() throws IOException {
    Path p = write("cpu_a.csv", "timestamp,value\n2024-01-01 00:10:00,3\n2024-01-01 00:00:00,1\n"
        + "2024-01-01 00:05:00,2\n");
    Trace t = TraceReaders.read(p).get(0);
    assertThat(t.startMillis()).isEqualTo(T0);
    assertThat(t.stepMillis()).isEqualTo(300_000);
    assertThat(values(t)).containsExactly(1, 2, 3);
  }

  @Test
  void duplicateTimestampsKeepTheMean() throws IOException {
    Path p = write("cpu_b.csv", "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n"
        + "2024-01-01 00:05:00,6\n2024-01-01 00:10:00,5\n2024-01-01 00:15:00,1\n");
    assertThat(values(TraceReaders.read(p).get(0))).containsExactly(1, 4, 5, 1);
  }

  @Test
  void shortGapsAreInterpolatedLinearly() throws IOException {
    // median step 60 s; a 4-minute hole is 3 empty intervals -> filled 1.5, 2, 2.5 between 1 and 3
    Path p = write("series.csv", "ts,cpu\n0,1\n60,1\n120,1\n360,3\n420,3\n480,3\n");
    Trace t = TraceReaders.read(p).get(0);
    assertThat(t.stepMillis()).isEqualTo(60_000);
    assertThat(values(t)).containsExactly(1, 1, 1, 1.5, 2, 2.5, 3, 3, 3);
  }

  @Test
  void gapsLongerThanTheLimitCarryTheLastValue() throws IOException {
    int empty = TraceReaders.MAX_INTERPOLATED_GAP + 1;
    StringBuilder sb = new StringBuilder("time,cpu\n");
    for (int i = 0; i < 4; i++) {
      sb.append(i * 60).append(",2\n");
    }
    long after = (3 + empty + 1) * 60L;
    sb.append(after).append(",8\n").append(after + 60).append(",8\n");
    Trace t = TraceReaders.read(write("long.csv", sb.toString())).get(0);
    assertThat(t.length()).isEqualTo(4 + empty + 2);
    for (int i = 0; i < 4 + empty; i++) {
      assertThat(t.value(i)).as("interval %d", i).isEqualTo(2);
    }
    assertThat(t.value(4 + empty)).isEqualTo(8);
  }

  @Test
  void gapOfExactlyTheLimitIsStillInterpolated() throws IOException {
    int empty = TraceReaders.MAX_INTERPOLATED_GAP;
    long after = (1 + empty + 1) * 60L;
    Trace t = TraceReaders.read(write("edge.csv", "time,cpu\n0,0\n60,0\n" + after + "," + (empty + 1) + "\n"
        + (after + 60) + ",0\n")).get(0);
    assertThat(t.value(2)).isCloseTo(1, within(1e-12));
    assertThat(t.value(1 + empty)).isCloseTo(empty, within(1e-12));
  }

  @Test
  void jitterBelowHalfAStepStaysOnTheGridAndSamplesInOneIntervalAreAveraged() throws IOException {
    // steps 299/301 s like Bitbrains: each sample lands in its own interval
    Trace t = TraceReaders.read(write("jitter.csv", "timestamp,mem\n1000,1\n1299,2\n1600,3\n1900,4\n")).get(0);
    assertThat(t.stepMillis()).isEqualTo(300_000);
    assertThat(values(t)).containsExactly(1, 2, 3, 4);
    // two samples 100 s apart inside one 300 s interval (median step 300 s) are averaged
    Trace u = TraceReaders.read(write("avg.csv", "timestamp,mem\n0,1\n300,2\n600,3\n700,5\n900,4\n1200,4\n"))
        .get(0);
    assertThat(values(u)).containsExactly(1, 2, 4, 4, 4);
  }

  @Test
  void alibabaMachinesShareOneGridAnchoredAtTheEarliestTimestamp() throws IOException {
    Path p = write("machine_usage.csv", """
        m_2,130,10,50,,,1,1,5
        m_2,190,20,50,,,1,1,5
        m_2,250,30,50,,,1,1,5
        m_1,100,1,40,,,1,1,5
        m_1,160,2,40,,,1,1,5
        m_1,175,4,42,,,1,1,-1
        m_1,220,3,40,,,1,1,5
        """);
    List<Trace> traces = TraceReaders.read(p);
    assertThat(traces).extracting(Trace::name).containsExactly("machine_usage.csv:m_1:cpu",
        "machine_usage.csv:m_1:memory", "machine_usage.csv:m_2:cpu", "machine_usage.csv:m_2:memory");
    Trace m1 = traces.get(0);
    assertThat(m1.stepMillis()).isEqualTo(60_000);
    assertThat(m1.startMillis()).isEqualTo(100_000);
    assertThat(values(m1)).containsExactly(1, 3, 3); // 160 s and 175 s share the interval centred at 160 s
    assertThat(values(traces.get(1))).containsExactly(40, 41, 40);
    Trace m2 = traces.get(2);
    assertThat((m2.startMillis() - m1.startMillis()) % m1.stepMillis()).isZero();
    assertThat(m2.startMillis()).isEqualTo(160_000); // 130 s is 30 s past 100 s: the later centre
    assertThat(values(m2)).containsExactly(10, 20, 30);
  }

  // ---- malformed files

  private TraceFormatException rejected(Path p) {
    return catchThrowableOfType(TraceFormatException.class, () -> TraceReaders.read(p));
  }

  @Test
  void nonNumericValueIsRejectedNamingFileLineAndValue() throws IOException {
    Path p = write("cpu_x.csv", "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,abc\n");
    TraceFormatException e = rejected(p);
    assertThat(e.file()).isEqualTo("cpu_x.csv");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.value()).isEqualTo("abc");
    assertThat(e).hasMessage("cpu_x.csv:3: value in column value is not a number: 'abc'");
  }

  @Test
  void negativeValueIsRejectedButRoundingNoiseReadsAsZero() throws IOException {
    TraceFormatException e = rejected(write("neg.csv", "time,cpu\n0,1\n60,-0.5\n"));
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage()).contains("neg.csv:3", "negative", "'-0.5'");
    Trace t = TraceReaders.read(write("noise.csv", "time,cpu\n0,1\n60,-0.00001\n")).get(0);
    assertThat(t.value(1)).isZero();
  }

  @Test
  void nanInfinityAndMissingValuesAreRejected() throws IOException {
    assertThat(rejected(write("nan.csv", "time,cpu\n0,1\n60,NaN\n")).getMessage()).contains(":3:", "'NaN'");
    assertThat(rejected(write("inf.csv", "time,cpu\n0,Infinity\n")).getMessage()).contains(":2:", "'Infinity'");
    assertThat(rejected(write("suffix.csv", "time,cpu\n0,1.5d\n")).getMessage()).contains(":2:", "'1.5d'");
    assertThat(rejected(write("missing.csv", "time,cpu,mem\n0,1,2\n60,,2\n")).getMessage())
        .contains(":3:", "missing value in column cpu");
  }

  @Test
  void badTimestampsAreRejected() throws IOException {
    TraceFormatException e = rejected(write("cpu_t.csv", "timestamp,value\n2024-01-01 00:00:00,1\n"
        + "2024-13-01 00:05:00,2\n"));
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.value()).isEqualTo("2024-13-01 00:05:00");
    assertThat(rejected(write("word.csv", "time,cpu\nyesterday,1\n")).getMessage())
        .contains("word.csv:2:", "'yesterday'");
    assertThat(rejected(write("iso.csv", "time,cpu\n2024-01-01T00:00:00Z,1\n2024-01-01T25:00:00Z,1\n"))
        .getMessage()).contains("iso.csv:3:", "unparseable timestamp");
  }

  @Test
  void wrongColumnCountIsRejected() throws IOException {
    TraceFormatException e = rejected(write("cols.csv", "time,cpu,mem\n0,1,2\n60,1\n"));
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage()).contains("expected 3 columns but found 2", "'60,1'");
    Path bb = write("vm/7.csv", "Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ];\t"
        + "CPU usage [%];\tMemory capacity provisioned [KB];\tMemory usage [KB];\tDisk read throughput [KB/s];\t"
        + "Disk write throughput [KB/s];\tNetwork received throughput [KB/s];\tNetwork transmitted throughput [KB/s]\n"
        + "1000;\t2;\t5000;\t100;\t2;\t8000;\t500;\t1;\t2;\t3;\t4\n"
        + "1300;\t2;\t5000;\t100;\t2;\t8000;\t500;\t1;\t2;\t3\n");
    assertThat(rejected(bb).getMessage()).contains("7.csv:3:", "expected 11 columns but found 10");
  }

  @Test
  void emptyAndHeaderOnlyFilesAreRejected() throws IOException {
    TraceFormatException empty = rejected(write("empty.csv", ""));
    assertThat(empty).hasMessage("empty.csv: empty file (no header and no rows)");
    assertThat(rejected(write("blank.csv", "\n  \n")).getMessage()).contains("empty file");
    assertThat(rejected(write("cpu_h.csv", "timestamp,value\n")).getMessage())
        .isEqualTo("cpu_h.csv: has a header but no data rows");
    assertThat(rejected(write("one.csv", "time,cpu\n0,1\n")).getMessage())
        .contains("one.csv", "at least two distinct timestamps");
  }

  @Test
  void aBadFileInADirectoryFailsTheReadNamingThatFile() throws IOException {
    write("d/a/cpu_ok.csv", "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n");
    write("d/b/cpu_bad.csv", "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,x\n");
    assertThat(rejected(dir.resolve("d")).getMessage()).startsWith("d/b/cpu_bad.csv:3:");
  }

  // ---- formats and detection

  @Test
  void nabResourceComesFromTheFileName() throws IOException {
    String rows = "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n";
    write("nab/ec2_cpu_utilization_1.csv", rows);
    write("nab/ec2_network_in_2.csv", rows);
    write("nab/iio_x_NetworkIn.csv", rows);
    write("nab/ec2_disk_write_bytes_3.csv", rows);
    write("nab/nyc_taxi.csv", rows);
    write("nab/SOURCES.md", "not a trace");
    write("nab/labels.json", "{}");
    List<Trace> traces = TraceReaders.read(dir.resolve("nab"));
    assertThat(traces).extracting(t -> t.name() + " " + t.unit()).containsExactly(
        "nab/ec2_cpu_utilization_1.csv:cpu percent", "nab/ec2_disk_write_bytes_3.csv:io bytes",
        "nab/ec2_network_in_2.csv:network bytes", "nab/iio_x_NetworkIn.csv:network bytes",
        "nab/nyc_taxi.csv:cpu count");
  }

  @Test
  void bitbrainsGivesFourResourcesAndEpochSeconds() throws IOException {
    String header = "Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ];\tCPU usage [%];\t"
        + "Memory capacity provisioned [KB];\tMemory usage [KB];\tDisk read throughput [KB/s];\t"
        + "Disk write throughput [KB/s];\tNetwork received throughput [KB/s];\tNetwork transmitted throughput [KB/s]\n";
    Path p = write("vm.csv", header + "1372629804;\t2;\t5851.9;\t87.5;\t1.5;\t8218624.0;\t1000.5;\t1;\t2;\t3;\t4\n"
        + "1372630104;\t2;\t5851.9;\t29.25;\t0.5;\t8218624.0;\t2000;\t0;\t0.5;\t0.25;\t1\n");
    List<Trace> traces = TraceReaders.read(p);
    assertThat(traces).extracting(Trace::resource)
        .containsExactly(Dimension.CPU, Dimension.MEMORY, Dimension.IO, Dimension.NETWORK);
    assertThat(traces).extracting(Trace::unit).containsExactly("MHz", "KB", "KB/s", "KB/s");
    assertThat(traces.get(0).startMillis()).isEqualTo(1_372_629_804_000L);
    assertThat(values(traces.get(0))).containsExactly(87.5, 29.25);
    assertThat(values(traces.get(2))).containsExactly(3, 0.5);
    assertThat(values(traces.get(3))).containsExactly(7, 1.25);
  }

  @Test
  void genericCsvMapsColumnsToResourcesAndReadsTimeFormats() throws IOException {
    Path p = write("export.csv", """
        "Time","CPUUtilization (%)","container_memory_usage_bytes","NetworkIn","DiskReadBytes","node_io_time","requests"
        2024-01-01T00:00:00Z,1,2,3,4,5,6
        2024-01-01T00:01:00Z,1,2,3,4,5,6
        """);
    List<Trace> traces = TraceReaders.read(p);
    assertThat(traces).extracting(Trace::resource).containsExactly(Dimension.CPU, Dimension.MEMORY,
        Dimension.NETWORK, Dimension.IO, Dimension.IO, Dimension.CPU);
    assertThat(traces.get(0).unit()).isEqualTo("%");
    assertThat(traces.get(1).unit()).isEqualTo("value");
    assertThat(traces.get(1).name()).isEqualTo("export.csv:container_memory_usage_bytes:memory");
    assertThat(traces.get(0).startMillis()).isEqualTo(T0);
    assertThat(traces.get(0).stepMillis()).isEqualTo(60_000);

    long[] expected = {T0, T0 + 60_000};
    for (String[] times : new String[][] {
        {"1704067200", "1704067260"}, {"1704067200000", "1704067260000"}, {"1704067200.0", "1704067260.0"},
        {"2024-01-01 00:00:00", "2024-01-01 00:01:00"}, {"2024-01-01T01:00:00+01:00", "2024-01-01T01:01:00+01:00"},
        {"2024-01-01T00:00:00.000", "2024-01-01T00:01:00.000"}}) {
      Trace t = TraceReaders.read(write("t.csv", "date;mem [KB]\n" + times[0] + ";1\n" + times[1] + ";2\n")).get(0);
      assertThat(t.startMillis()).as(times[0]).isEqualTo(expected[0]);
      assertThat(t.stepMillis()).as(times[0]).isEqualTo(60_000);
      assertThat(t.unit()).isEqualTo("KB");
      assertThat(t.resource()).isEqualTo(Dimension.MEMORY);
    }
    Trace tsv = TraceReaders.read(write("x.tsv", "ts\tnet_rx\n0\t1\n60\t2\n")).get(0);
    assertThat(tsv.resource()).isEqualTo(Dimension.NETWORK);
  }

  @Test
  void genAiArchiveIsStreamedAndRowsWithoutAContainerAreSkipped() throws IOException {
    String csv = """
        value,timestamp_anon,container_ip
        0.5,1000.0,aaa
        0.25,1000.0,bbb
        0.7,1000.0,
        0.75,1057.0,aaa
        -0.00001,1057.0,bbb
        0.5,1114.0,bbb
        """;
    Path archive = dir.resolve("pod_memory_util_anon.tar.gz");
    byte[] bytes = csv.getBytes(StandardCharsets.UTF_8);
    try (OutputStream out = Files.newOutputStream(archive);
         TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(out))) {
      TarArchiveEntry fork = new TarArchiveEntry("._pod_memory_util_anon.csv");
      fork.setSize(3);
      tar.putArchiveEntry(fork);
      tar.write(new byte[] {1, 2, 3});
      tar.closeArchiveEntry();
      TarArchiveEntry entry = new TarArchiveEntry("pod_memory_util_anon.csv");
      entry.setSize(bytes.length);
      tar.putArchiveEntry(entry);
      tar.write(bytes);
      tar.closeArchiveEntry();
    }
    List<Trace> traces = TraceReaders.read(archive);
    assertThat(traces).extracting(Trace::name).containsExactly(
        "pod_memory_util_anon.tar.gz!pod_memory_util_anon.csv:aaa:memory",
        "pod_memory_util_anon.tar.gz!pod_memory_util_anon.csv:bbb:memory");
    assertThat(traces).allSatisfy(t -> {
      assertThat(t.stepMillis()).isEqualTo(57_000);
      assertThat(t.startMillis()).isEqualTo(1_000_000);
      assertThat(t.resource()).isEqualTo(Dimension.MEMORY);
    });
    assertThat(values(traces.get(0))).containsExactly(0.5, 0.75);
    assertThat(values(traces.get(1))).containsExactly(0.25, 0, 0.5);

    // the same layout for a GPU metric is not a host resource
    Path gpu = write("pod_gpu_duty_cycle_anon.csv", "value,timestamp_anon,container_ip\n1,0,a\n1,60,a\n");
    assertThat(rejected(gpu).getMessage()).contains("pod_gpu_duty_cycle_anon.csv", "only pod memory");
  }

  @Test
  void gzipFilesAreReadAsStreams() throws IOException {
    Path p = dir.resolve("cpu.csv.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(p))) {
      out.write("time,cpu\n0,1\n60,2\n".getBytes(StandardCharsets.UTF_8));
    }
    assertThat(values(TraceReaders.read(p).get(0))).containsExactly(1, 2);
  }

  @Test
  void unrecognisedContentIsRejectedNamingTheFile() throws IOException {
    TraceFormatException e = rejected(write("notes.txt", "hello world\nmore\n"));
    assertThat(e.getMessage()).startsWith("notes.txt:1: unrecognised trace format").contains("'hello world'");
  }

  @Test
  void explicitFormatChecksTheHeader() throws IOException {
    Path p = write("series.csv", "time,cpu\n0,1\n60,2\n");
    assertThat(TraceReaders.read(p, "csv")).hasSize(1);
    assertThat(catchThrowableOfType(TraceFormatException.class, () -> TraceReaders.read(p, "nab")).getMessage())
        .contains("series.csv:1: not a nab header");
    assertThat(catchThrowableOfType(TraceFormatException.class, () -> TraceReaders.read(p, "bitbrains")).line())
        .isEqualTo(1);
    assertThat(catchThrowableOfType(TraceFormatException.class, () -> TraceReaders.read(p, "alibaba2018"))
        .getMessage()).contains("series.csv:1: expected 9 columns");
    assertThatThrownBy(() -> TraceReaders.read(p, "parquet")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'parquet'").hasMessageContaining("nab, bitbrains, alibaba2018, genai2026, csv");
  }

  @Test
  void directoryWithoutTraceFilesAndMissingPathsAreErrors() throws IOException {
    write("docs/README.md", "x");
    assertThat(rejected(dir.resolve("docs")).getMessage()).contains("no trace file");
    assertThatThrownBy(() -> TraceReaders.read(dir.resolve("nope.csv"))).isInstanceOf(IOException.class)
        .hasMessageContaining("nope.csv");
  }
}
