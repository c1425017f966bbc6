import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A RabbitMQ client nobody in this project wrote (the official Java client), speaking the wire
 * format of nestjs-mq-pool's declarative messaging, for test/integration/rabbitmq/java-interop.spec.ts:
 *
 * <pre>
 *   call    &lt;exchange&gt; &lt;routingKey&gt; &lt;json&gt; [timeoutMs]   RPC client over direct reply-to
 *   serve   &lt;queue&gt; &lt;count&gt; [timeoutMs]                  RPC server answering count requests
 *   publish &lt;exchange&gt; &lt;routingKey&gt; &lt;json&gt; &lt;messageId&gt;  confirmed persistent JSON message
 * </pre>
 *
 * The broker is AMQP_URL (default amqp://guest:guest@127.0.0.1:5672; never printed). Results are
 * JSON lines on stdout; the client's own log goes to stderr. Exit codes: 0 done, 1 failure,
 * 2 usage, 3 unroutable (returned by the broker), 4 timeout.
 */
public final class AmqpInterop {
  static final String DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";
  static final String STATUS_HEADER = "x-mq-rpc-status";
  static final String JSON = "application/json";

  public static void main(String[] args) throws Exception {
    String mode = args.length > 0 ? args[0] : "";
    int code;
    try {
      switch (mode) {
        case "call":
          requireArgs(args, 4);
          code = call(args[1], args[2], args[3], optionalLong(args, 4, 10_000));
          break;
        case "serve":
          requireArgs(args, 3);
          code = serve(args[1], Integer.parseInt(args[2]), optionalLong(args, 3, 30_000));
          break;
        case "publish":
          requireArgs(args, 5);
          code = publish(args[1], args[2], args[3], args[4]);
          break;
        default:
          throw new IllegalArgumentException("unknown mode '" + mode + "'");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("usage: AmqpInterop call <exchange> <routingKey> <json> [timeoutMs]");
      System.err.println("       AmqpInterop serve <queue> <count> [timeoutMs]");
      System.err.println("       AmqpInterop publish <exchange> <routingKey> <json> <messageId>");
      System.err.println(e.getMessage());
      code = 2;
    }
    System.out.flush();
    System.exit(code);
  }

  static void requireArgs(String[] args, int count) {
    if (args.length < count) throw new IllegalArgumentException("missing arguments for " + args[0]);
  }

  static long optionalLong(String[] args, int index, long fallback) {
    return args.length > index ? Long.parseLong(args[index]) : fallback;
  }

  static Connection connect(String role) throws Exception {
    ConnectionFactory factory = new ConnectionFactory();
    String url = System.getenv("AMQP_URL");
    factory.setUri(url == null || url.isBlank() ? "amqp://guest:guest@127.0.0.1:5672" : url.trim());
    factory.setAutomaticRecoveryEnabled(false);
    return factory.newConnection("java-interop-" + role);
  }

  /** Sends one request over direct reply-to and prints the reply: {"status", "contentType", "body"}. */
  static int call(String exchange, String routingKey, String json, long timeoutMs)
      throws Exception {
    try (Connection connection = connect("call")) {
      Channel channel = connection.createChannel();
      String correlationId = UUID.randomUUID().toString();
      CompletableFuture<String> reply = new CompletableFuture<>();
      // Direct reply-to: consume the pseudo-queue (no-ack) on this channel before publishing.
      channel.basicConsume(
          DIRECT_REPLY_TO,
          true,
          (tag, delivery) -> {
            AMQP.BasicProperties props = delivery.getProperties();
            if (!correlationId.equals(props.getCorrelationId())) return;
            Map<String, Object> headers = props.getHeaders();
            Object status = headers == null ? null : headers.get(STATUS_HEADER);
            reply.complete(
                "{\"status\":"
                    + jsonString(status == null ? null : status.toString())
                    + ",\"contentType\":"
                    + jsonString(props.getContentType())
                    + ",\"body\":"
                    + jsonString(new String(delivery.getBody(), StandardCharsets.UTF_8))
                    + "}");
          },
          tag -> reply.completeExceptionally(new IllegalStateException("reply consumer cancelled")));
      channel.addReturnListener(
          returned -> reply.completeExceptionally(new Unroutable(returned.getReplyText())));
      AMQP.BasicProperties props =
          new AMQP.BasicProperties.Builder()
              .contentType(JSON)
              .correlationId(correlationId)
              .replyTo(DIRECT_REPLY_TO)
              .build();
      channel.basicPublish(exchange, routingKey, true, props, json.getBytes(StandardCharsets.UTF_8));
      try {
        System.out.println(reply.get(timeoutMs, TimeUnit.MILLISECONDS));
        return 0;
      } catch (TimeoutException e) {
        System.err.println("no reply within " + timeoutMs + " ms (correlation id " + correlationId + ")");
        return 4;
      } catch (java.util.concurrent.ExecutionException e) {
        if (e.getCause() instanceof Unroutable) {
          System.err.println("request returned as unroutable: " + e.getCause().getMessage());
          return 3;
        }
        throw e;
      }
    }
  }

  /**
   * Declares `queue` (non-durable, auto-delete), prints {"ready":true}, then answers `count` requests
   * with {"echo": request, "server": "java"} and prints one line per request it saw.
   */
  static int serve(String queue, int count, long timeoutMs) throws Exception {
    try (Connection connection = connect("serve")) {
      Channel channel = connection.createChannel();
      channel.queueDeclare(queue, false, false, true, null);
      channel.basicQos(16);
      CountDownLatch done = new CountDownLatch(count);
      AtomicInteger served = new AtomicInteger();
      channel.basicConsume(
          queue,
          false,
          (tag, delivery) -> {
            AMQP.BasicProperties props = delivery.getProperties();
            String request = new String(delivery.getBody(), StandardCharsets.UTF_8);
            // A JSON request is echoed as JSON; anything else as a string.
            String echo = JSON.equals(props.getContentType()) ? request : jsonString(request);
            String body = "{\"echo\":" + echo + ",\"server\":\"java\"}";
            AMQP.BasicProperties replyProps =
                new AMQP.BasicProperties.Builder()
                    .contentType(JSON)
                    .correlationId(props.getCorrelationId())
                    .headers(Map.of(STATUS_HEADER, "ok"))
                    .build();
            channel.basicPublish("", props.getReplyTo(), replyProps, body.getBytes(StandardCharsets.UTF_8));
            channel.basicAck(delivery.getEnvelope().getDeliveryTag(), false);
            synchronized (System.out) {
              System.out.println(
                  "{\"request\":{\"correlationId\":"
                      + jsonString(props.getCorrelationId())
                      + ",\"replyTo\":"
                      + jsonString(props.getReplyTo())
                      + ",\"contentType\":"
                      + jsonString(props.getContentType())
                      + ",\"body\":"
                      + jsonString(request)
                      + "}}");
              System.out.flush();
            }
            served.incrementAndGet();
            done.countDown();
          },
          tag -> {});
      System.out.println("{\"ready\":true}");
      System.out.flush();
      if (!done.await(timeoutMs, TimeUnit.MILLISECONDS)) {
        System.err.println("served " + served.get() + " of " + count + " requests within " + timeoutMs + " ms");
        return 4;
      }
      System.out.println("{\"served\":" + served.get() + "}");
      return 0;
    }
  }

  /** Publishes one persistent JSON message (mandatory) and waits for the broker's confirm. */
  static int publish(String exchange, String routingKey, String json, String messageId)
      throws Exception {
    try (Connection connection = connect("publish")) {
      Channel channel = connection.createChannel();
      AtomicInteger returned = new AtomicInteger();
      channel.addReturnListener(r -> returned.incrementAndGet());
      channel.confirmSelect();
      AMQP.BasicProperties props =
          new AMQP.BasicProperties.Builder()
              .contentType(JSON)
              .deliveryMode(2)
              .messageId(messageId)
              .headers(Map.of("x-sent-by", "amqp-client-java"))
              .build();
      channel.basicPublish(exchange, routingKey, true, props, json.getBytes(StandardCharsets.UTF_8));
      // A returned message is confirmed too, after its basic.return: the count is final here.
      channel.waitForConfirmsOrDie(10_000);
      if (returned.get() > 0) {
        System.err.println("message returned as unroutable (exchange '" + exchange + "', key '" + routingKey + "')");
        return 3;
      }
      System.out.println("{\"published\":true,\"messageId\":" + jsonString(messageId) + "}");
      return 0;
    }
  }

  static final class Unroutable extends Exception {
    private static final long serialVersionUID = 1L;

    Unroutable(String message) {
      super(message);
    }
  }

  /** A JSON string literal (or null), ASCII only: stdout's charset follows the locale on Java 17. */
  static String jsonString(String value) {
    if (value == null) return "null";
    StringBuilder out = new StringBuilder(value.length() + 2).append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"':
          out.append("\\\"");
          break;
        case '\\':
          out.append("\\\\");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        default:
          if (c < 0x20 || c > 0x7e) out.append(String.format("\\u%04x", (int) c));
          else out.append(c);
      }
    }
    return out.append('"').toString();
  }
}
