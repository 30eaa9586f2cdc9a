package dev.penumbra.server;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/** Jetty's own error responses in the API's error shape: {@code {"status", "error"}}, never HTML or stacks. */
final class JsonErrorHandler extends ErrorHandler {

  private static byte[] body(int code, String message, String request) {
    String text = message == null || message.isBlank() ? HttpStatus.getMessage(code) : message;
    // No route saw the request, so no field of it is known: the request line is what was refused.
    return Json.error(code, "request refused by the HTTP layer: " + text, "(request)", request).toString()
        .getBytes(StandardCharsets.UTF_8);
  }

  private static String requestLine(Request request) {
    String line = request.getMethod() + " " + request.getHttpURI().getPathQuery();
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }

  @Override
  protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
      Callback callback) {
    byte[] b = body(code, message, requestLine(request));
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, b.length);
    // Jetty closes a connection whose request it refused; saying so keeps a client from sending the next
    // request on it (and losing that one).
    response.getHeaders().put(HttpHeader.CONNECTION, "close");
    response.write(true, ByteBuffer.wrap(b), callback);
  }

  @Override
  public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
    fields.put(HttpHeader.CONTENT_TYPE, "application/json");
    fields.put(HttpHeader.CONNECTION, "close");
    return ByteBuffer.wrap(body(status, reason, ""));
  }
}
