package dev.penumbra.query.tpch;

import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.LocalDate;
import org.postgresql.copy.CopyIn;

/** The {@link RowSink}s of the loaders. */
final class Sinks {
  private Sinks() {}

  /** Where {@link Text} sends its encoded chunks. */
  interface ChunkTarget {
    void write(byte[] bytes, int len) throws Exception;
  }

  /**
   * Tab-separated text (PostgreSQL COPY text format, also read by DuckDB's COPY), written in 256 KiB chunks
   * to a PostgreSQL {@link CopyIn} or a file.
   */
  static final class Text implements RowSink {
    private static final int FLUSH_AT = 1 << 18;
    private static final String[] DATES = new String[TpchGenerator.END_DATE + 400 - TpchGenerator.START_DATE];
    private final ChunkTarget out;
    private final StringBuilder buf = new StringBuilder(FLUSH_AT + 1024);
    private boolean first = true;
    long rows;

    Text(ChunkTarget out) {
      this.out = out;
    }

    static Text copyIn(CopyIn in) {
      return new Text((b, n) -> in.writeToCopy(b, 0, n));
    }

    static Text stream(java.io.OutputStream os) {
      return new Text((b, n) -> os.write(b, 0, n));
    }

    private StringBuilder field() {
      if (!first) {
        buf.append('\t');
      }
      first = false;
      return buf;
    }

    @Override
    public void int4(int v) {
      field().append(v);
    }

    @Override
    public void int8(long v) {
      field().append(v);
    }

    @Override
    public void cents(long v) {
      StringBuilder b = field();
      if (v < 0) {
        b.append('-');
        v = -v;
      }
      long frac = v % 100;
      b.append(v / 100).append('.').append(frac < 10 ? "0" : "").append(frac);
    }

    @Override
    public void date(int epochDay) {
      field().append(dateText(epochDay));
    }

    static String dateText(int epochDay) {
      int i = epochDay - TpchGenerator.START_DATE;
      if (i < 0 || i >= DATES.length) {
        return LocalDate.ofEpochDay(epochDay).toString();
      }
      String s = DATES[i];
      if (s == null) {
        s = LocalDate.ofEpochDay(epochDay).toString();
        DATES[i] = s;
      }
      return s;
    }

    @Override
    public void text(String v) {
      StringBuilder b = field();
      for (int i = 0; i < v.length(); i++) {
        char c = v.charAt(i);
        switch (c) {
          case '\\' -> b.append("\\\\");
          case '\t' -> b.append("\\t");
          case '\n' -> b.append("\\n");
          case '\r' -> b.append("\\r");
          default -> b.append(c);
        }
      }
    }

    @Override
    public void endRow() {
      buf.append('\n');
      first = true;
      rows++;
      if (buf.length() >= FLUSH_AT) {
        flush();
      }
    }

    void flush() {
      if (buf.isEmpty()) {
        return;
      }
      byte[] bytes = buf.toString().getBytes(StandardCharsets.UTF_8);
      buf.setLength(0);
      try {
        out.write(bytes, bytes.length);
      } catch (Exception e) {
        throw new LoadFailure(e);
      }
    }
  }

  /** Binds rows to a prepared INSERT and adds them to its batch (small inserts, any JDBC database). */
  static class Batch implements RowSink {
    private final PreparedStatement ps;
    private int col = 1;

    Batch(PreparedStatement ps) {
      this.ps = ps;
    }

    @Override
    public void int4(int v) {
      try {
        ps.setInt(col++, v);
      } catch (SQLException e) {
        throw new LoadFailure(e);
      }
    }

    @Override
    public void int8(long v) {
      try {
        ps.setLong(col++, v);
      } catch (SQLException e) {
        throw new LoadFailure(e);
      }
    }

    @Override
    public void cents(long v) {
      try {
        ps.setBigDecimal(col++, java.math.BigDecimal.valueOf(v, 2));
      } catch (SQLException e) {
        throw new LoadFailure(e);
      }
    }

    @Override
    public void date(int epochDay) {
      try {
        ps.setObject(col++, LocalDate.ofEpochDay(epochDay));
      } catch (SQLException e) {
        throw new LoadFailure(e);
      }
    }

    @Override
    public void text(String v) {
      try {
        ps.setString(col++, v);
      } catch (SQLException e) {
        throw new LoadFailure(e);
      }
    }

    @Override
    public void endRow() {
      try {
        ps.addBatch();
        col = 1;
      } catch (SQLException e) {
        throw new LoadFailure(e);
      }
    }
  }
}
