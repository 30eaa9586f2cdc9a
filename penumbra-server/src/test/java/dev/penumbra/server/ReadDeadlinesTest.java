package dev.penumbra.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Slow clients over a raw socket: one sending a header byte at a time (slowloris) and one trickling its body are
 * cut off at the total read deadlines, although each byte would reset Jetty's idle timeout (30 s by default).
 */
class ReadDeadlinesTest {
  static PenumbraServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServers.started(Map.of("PENUMBRA_STREAM_ENABLED", "false", "PENUMBRA_TASK_ENABLED", "false",
        "PENUMBRA_SERVER_HEADER_TIMEOUT", "1s", "PENUMBRA_SERVER_BODY_TIMEOUT", "1s"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** What a slow client saw: the bytes it managed to send and what came back before the connection ended. */
  record Outcome(int sent, String reply) {}

  /**
   * Sends {@code head} at once, then {@code trickle} one byte per 100 ms read timeout (the pacing is the socket's
   * read timeout: no sleeps), at most 300 bytes, until the server answers or closes.
   */
  static Outcome trickle(String head, String trickle) throws IOException {
    URI u = URI.create(server.url());
    try (Socket s = new Socket(u.getHost(), u.getPort())) {
      s.setSoTimeout(100);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      byte[] bytes = trickle.getBytes(StandardCharsets.US_ASCII);
      int sent = 0;
      StringBuilder reply = new StringBuilder();
      for (int i = 0; i < Math.min(bytes.length, 300); i++) {
        try {
          out.write(bytes[i]);
          out.flush();
          sent++;
        } catch (IOException closed) {
          break;
        }
        try {
          int n;
          byte[] buf = new byte[4096];
          if ((n = in.read(buf)) < 0) {
            break;
          }
          reply.append(new String(buf, 0, n, StandardCharsets.UTF_8));
          s.setSoTimeout(2000);
          while ((n = in.read(buf)) > 0) {
            reply.append(new String(buf, 0, n, StandardCharsets.UTF_8));
          }
          break;
        } catch (SocketTimeoutException nothingYet) {
          // the server is still waiting for more
        } catch (IOException reset) {
          break;
        }
      }
      return new Outcome(sent, reply.toString());
    }
  }

  @Test
  void aClientSendingOneHeaderByteAtATimeIsCutOffWith408() throws Exception {
    Outcome o = trickle("GET /v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\n",
        "X-Slow: " + "a".repeat(400) + "\r\n\r\n");
    // 1 s deadline, a byte per 100 ms: cut off after ~10-15 bytes, long before the 300 it would send.
    assertThat(o.sent()).as("bytes sent before the cut-off").isLessThan(100);
    assertThat(o.reply()).startsWith("HTTP/1.1 408").contains("application/json").contains("\"field\":\"(headers)\"");
  }

  /**
   * The second request on a kept-alive connection starts no deadline when the connection opens: the timer notices its
   * first byte (the parser's own time of it) and cuts it off at its own deadline, like a first request.
   */
  @Test
  void aKeptAliveConnectionsNextRequestIsCutOffToo() throws Exception {
    URI u = URI.create(server.url());
    try (Socket s = new Socket(u.getHost(), u.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write("GET /v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String head = readHead(in);
      assertThat(head).startsWith("HTTP/1.1 200");
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
      assertThat(m.find()).as(head).isTrue();
      in.readNBytes(Integer.parseInt(m.group(1)));
      // The same connection, now slowly: a header byte per 100 ms read timeout, at most 300.
      out.write("GET /v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.US_ASCII));
      s.setSoTimeout(100);
      String reply = "";
      int sent = 0;
      for (; sent < 300 && reply.isEmpty(); sent++) {
        try {
          out.write('a');
          out.flush();
        } catch (IOException closed) {
          break;
        }
        try {
          reply = readHead(in);
        } catch (SocketTimeoutException nothingYet) {
          // still reading our header
        }
      }
      assertThat(sent).as("bytes sent before the cut-off").isLessThan(100);
      assertThat(reply).startsWith("HTTP/1.1 408");
    }
  }

  /** Reads up to the end of a response's head (a timeout before its first byte propagates). */
  static String readHead(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      b.append((char) c);
      if (b.length() >= 4 && b.substring(b.length() - 4).equals("\r\n\r\n")) {
        break;
      }
    }
    return b.toString();
  }

  @Test
  void aClientTricklingItsBodyIsCutOffAndNothingRuns() throws Exception {
    int before = TestServers.get(server, "/v1/queries").json().size();
    String body = "{\"sql\": \"SELECT count(*) FROM nation\"" + " ".repeat(500) + "}";
    Outcome o = trickle("POST /v1/queries HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + body.length() + "\r\n\r\n", body);
    assertThat(o.sent()).as("bytes sent before the cut-off").isLessThan(100);
    assertThat(o.reply()).doesNotStartWith("HTTP/1.1 200");
    assertThat(TestServers.get(server, "/v1/queries").json().size()).isEqualTo(before);
    assertThat(server.ledger().snapshot().reservations()).isEmpty();
  }

  @Test
  void aPromptClientIsServedOnTheSameConnectionAsBefore() throws Exception {
    assertThat(TestServers.get(server, "/v1/nodes").status()).isEqualTo(200);
  }
}
