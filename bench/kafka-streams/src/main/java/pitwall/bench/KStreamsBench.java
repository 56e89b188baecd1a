package pitwall.bench;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.TimestampExtractor;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The Kafka Streams side of pitwall's bench figure c4: a 5-minute tumbling COUNT/SUM(orderTotal)
 * per restaurant over the bench topic, exactly-once (exactly_once_v2), results on window close.
 *
 * <p>Args: bootstrap inputTopic outputTopic N applicationId stateDir [streamThreads=1] [close|update]
 *
 * <p>Counts input records in a peek right after the source; when the N-th arrives it prints
 * {@code KSTREAMS n=N ms=<first record to N-th> cpuMs=<process CPU over the same span>} and closes.
 */
public final class KStreamsBench {
  private KStreamsBench() {}

  /** The bench event (bench/common.ts benchPayload); unknown fields ignored. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public static final class Event {
    public String eventId;
    public String eventType;
    public long eventTime;
    public Data data;
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  public static final class Data {
    public String restaurantId;
    public double orderTotal;
  }

  /** The window aggregate: count and sum. */
  public static final class Agg {
    final long count;
    final double sum;

    Agg(long count, double sum) {
      this.count = count;
      this.sum = sum;
    }
  }

  private static final ObjectMapper MAPPER =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  static final class EventDeserializer implements Deserializer<Event> {
    @Override
    public Event deserialize(String topic, byte[] bytes) {
      if (bytes == null) return null;
      try {
        return MAPPER.readValue(bytes, Event.class);
      } catch (java.io.IOException e) {
        return null; // malformed: dropped by the filter below
      }
    }
  }

  static final class AggSerde implements Serde<Agg> {
    @Override
    public Serializer<Agg> serializer() {
      return (topic, a) -> a == null ? null : ByteBuffer.allocate(16).putLong(a.count).putDouble(a.sum).array();
    }

    @Override
    public Deserializer<Agg> deserializer() {
      return (topic, b) -> {
        if (b == null) return null;
        ByteBuffer buf = ByteBuffer.wrap(b);
        return new Agg(buf.getLong(), buf.getDouble());
      };
    }
  }

  /** Event time = the payload's eventTime (epoch ms). */
  public static final class EventTimeExtractor implements TimestampExtractor {
    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
      Object v = record.value();
      if (v instanceof Event e && e.eventTime > 0) return e.eventTime;
      return partitionTime >= 0 ? partitionTime : record.timestamp();
    }
  }

  private static long cpuNanos() {
    java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) return sun.getProcessCpuTime();
    return -1;
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 6) {
      System.err.println("usage: KStreamsBench bootstrap inputTopic outputTopic N applicationId stateDir [streamThreads] [close|update]");
      System.exit(2);
    }
    String bootstrap = args[0];
    String input = args[1];
    String output = args[2];
    long n = Long.parseLong(args[3]);
    String appId = args[4];
    String stateDir = args[5];
    int threads = args.length > 6 ? Integer.parseInt(args[6]) : 1;
    // "close" (default): EmitStrategy.onWindowClose(), like pitwall's default on_window_close;
    // "update": Kafka Streams' default emit (record cache, updates flushed on commit/eviction).
    boolean onClose = args.length <= 7 || !args[7].equals("update");

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    // pitwall's default checkpoint interval in the bench (KafkaRunner checkpointIntervalMs 5000);
    // Kafka Streams' own default under exactly-once would be 100 ms.
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 5000);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    props.put(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, EventTimeExtractor.class);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

    AtomicLong seen = new AtomicLong();
    AtomicLong firstNs = new AtomicLong();
    AtomicLong firstCpu = new AtomicLong();
    AtomicLong endNs = new AtomicLong();
    AtomicLong endCpu = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(1);

    Serde<Event> eventSerde = Serdes.serdeFrom((t, e) -> { throw new UnsupportedOperationException(); }, new EventDeserializer());
    AggSerde aggSerde = new AggSerde();
    StreamsBuilder builder = new StreamsBuilder();
    var windowed = builder.stream(input, Consumed.with(Serdes.String(), eventSerde))
        .peek((k, v) -> {
          long c = seen.incrementAndGet();
          if (c == 1) {
            firstNs.set(System.nanoTime());
            firstCpu.set(cpuNanos());
          }
          if (c == n) {
            endNs.set(System.nanoTime());
            endCpu.set(cpuNanos());
            done.countDown();
          }
        })
        .filter((k, v) -> v != null && v.eventId != null && v.data != null && v.data.restaurantId != null)
        // The bench producer keys each message by data.restaurantId, so the record key already is
        // the grouping key: groupByKey, no repartition topic. (Were it not, selectKey first.)
        .groupByKey(Grouped.with(Serdes.String(), eventSerde))
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMinutes(5), Duration.ofSeconds(5)));
    // pitwall's default emit is on_window_close: one final row per (window, key).
    if (onClose) windowed = windowed.emitStrategy(EmitStrategy.onWindowClose());
    windowed.aggregate(
            () -> new Agg(0, 0),
            (key, e, agg) -> new Agg(agg.count + 1, agg.sum + e.data.orderTotal),
            Materialized.<String, Agg, WindowStore<Bytes, byte[]>>as("agg-5m")
                .withKeySerde(Serdes.String())
                .withValueSerde(aggSerde))
        .toStream()
        .map((wk, agg) -> KeyValue.pair(
            wk.key() + "@" + wk.window().start(),
            "{\"window_start\":" + wk.window().start() + ",\"window_end\":" + wk.window().end()
                + ",\"k\":\"" + wk.key() + "\",\"n\":" + agg.count + ",\"s\":" + agg.sum + "}"))
        .to(output, Produced.with(Serdes.String(), Serdes.String()));

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    streams.setUncaughtExceptionHandler(e -> {
      failure.set(e);
      done.countDown();
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.start();
    boolean finished = done.await(900, TimeUnit.SECONDS);
    int rc = 0;
    if (failure.get() != null) {
      System.err.println("KSTREAMS failed: " + failure.get());
      rc = 1;
    } else if (!finished) {
      System.err.println("KSTREAMS timed out after " + seen.get() + " of " + n + " records");
      rc = 1;
    } else {
      long ms = (endNs.get() - firstNs.get()) / 1_000_000;
      long cpuMs = firstCpu.get() < 0 ? -1 : (endCpu.get() - firstCpu.get()) / 1_000_000;
      System.out.println("KSTREAMS n=" + n + " ms=" + ms + " cpuMs=" + cpuMs);
      System.out.flush();
    }
    streams.close(Duration.ofSeconds(30));
    System.exit(rc);
  }
}
