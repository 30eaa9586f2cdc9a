package dev.penumbra.query.engine;

import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Reads a result set, keeping the first {@code cap} rows and counting all of them. */
record Rows(List<String> columns, List<List<Object>> rows, long count) {
  static Rows read(ResultSet rs, int cap) throws SQLException {
    ResultSetMetaData md = rs.getMetaData();
    int n = md.getColumnCount();
    List<String> columns = new ArrayList<>(n);
    for (int i = 1; i <= n; i++) {
      columns.add(md.getColumnLabel(i));
    }
    List<List<Object>> rows = new ArrayList<>();
    long count = 0;
    while (rs.next()) {
      if (count < cap) {
        Object[] row = new Object[n];
        for (int i = 1; i <= n; i++) {
          row[i - 1] = rs.getObject(i);
        }
        // Arrays.asList keeps SQL NULLs, which List.of would reject.
        rows.add(java.util.Collections.unmodifiableList(Arrays.asList(row)));
      }
      count++;
    }
    return new Rows(columns, rows, count);
  }
}
