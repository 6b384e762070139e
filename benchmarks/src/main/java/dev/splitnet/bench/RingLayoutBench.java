package dev.splitnet.bench;

import dev.splitnet.api.NetifConstants;
import dev.splitnet.mmap.BackRing;
import dev.splitnet.mmap.FrontRing;
import dev.splitnet.mmap.NetifDescriptor;
import dev.splitnet.mmap.NetifEntries;
import dev.splitnet.mmap.NetifV2Entries;
import dev.splitnet.mmap.RingV2Consumer;
import dev.splitnet.mmap.RingV2Descriptor;
import dev.splitnet.mmap.RingV2Producer;
import dev.splitnet.mmap.SharedRingDescriptor;
import java.util.Arrays;
import java.util.Locale;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The ring formats alone, between two threads over off-heap memory (the cache lines are the same
 * as between two processes): Xen's v1 TX ring ({@link FrontRing}/{@link BackRing}, requests and
 * responses in one ring, indices on one line) against ring v2 ({@link RingV2Producer}/
 * {@link RingV2Consumer}, tagged entries, a line per side), beside a bare cache-line round trip
 * (the floor). Two measures, alternating formats each repetition so placement changes hit all:
 * <ul>
 *   <li>round trip: one request, its response, busy-spin both ways (ns, median of the reps);</li>
 *   <li>stream: requests as fast as the ring takes them, the consumer answering each poll's run
 *       (v1: a response per request; v2: one response word per run of ids), in M requests/s.</li>
 * </ul>
 * {@code java @jvm.options -cp 'benchmarks/target/splitnet-benchmarks.jar:benchmarks/target/lib/*'
 * dev.splitnet.bench.RingLayoutBench [reps] [roundTrips] [streamRequests]}
 */
public final class RingLayoutBench
{
    private static final int REGION = 4096;
    private static final int STOP = -7;

    private RingLayoutBench()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final int reps = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        final int roundTrips = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
        final int streamed = args.length > 2 ? Integer.parseInt(args[2]) : 50_000_000;
        final String[] names = { "bare line", "v1 (Xen)", "v2" };
        final double[][] rtt = new double[3][reps];
        final double[][] stream = new double[3][reps];
        for (int rep = 0; rep < reps; rep++)
        {
            rtt[0][rep] = bareRoundTrip(roundTrips);
            rtt[1][rep] = new V1().roundTrip(roundTrips);
            rtt[2][rep] = new V2().roundTrip(roundTrips);
            stream[1][rep] = new V1().stream(streamed);
            stream[2][rep] = new V2().stream(streamed);
            System.err.printf(Locale.ROOT, "rep %d: round trip bare %.0f ns, v1 %.0f ns, v2 %.0f ns; stream v1 %.1f M/s, v2 %.1f M/s%n",
                rep + 1, rtt[0][rep], rtt[1][rep], rtt[2][rep], stream[1][rep], stream[2][rep]);
        }
        System.out.println("| ring | round trip, median ns | x bare line | stream, median M req/s |");
        System.out.println("|---|---:|---:|---:|");
        for (int f = 0; f < 3; f++)
        {
            System.out.printf(Locale.ROOT, "| %s | %.0f | %.2f | %s |%n", names[f], median(rtt[f]), median(rtt[f]) / median(rtt[0]),
                f == 0 ? "-" : String.format(Locale.ROOT, "%.1f", median(stream[f])));
        }
    }

    private static double median(final double[] values)
    {
        final double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    /** Two lines, one written by each thread: the fewest transfers a request and its answer can take. */
    private static double bareRoundTrip(final int n) throws InterruptedException
    {
        final UnsafeBuffer lines = new UnsafeBuffer(BufferUtil.allocateDirectAligned(256, 64));
        final Thread echo = new Thread(() ->
        {
            for (int i = 1; i <= n; i++)
            {
                while (lines.getIntAcquire(0) != i)
                {
                    Thread.onSpinWait();
                }
                lines.putIntRelease(128, i);
            }
        });
        echo.start();
        final long start = System.nanoTime();
        for (int i = 1; i <= n; i++)
        {
            lines.putIntRelease(0, i);
            while (lines.getIntAcquire(128) != i)
            {
                Thread.onSpinWait();
            }
        }
        final long took = System.nanoTime() - start;
        echo.join();
        return (double)took / n;
    }

    /** Xen's TX ring: the backend answers in the request's slot; both indices on one line. */
    private static final class V1
    {
        private final UnsafeBuffer sring = new UnsafeBuffer(BufferUtil.allocateDirectAligned(REGION, 64));
        private final int size = SharedRingDescriptor.ringSize(REGION, NetifDescriptor.TX_ENTRY_LENGTH);
        private final FrontRing front = new FrontRing(sring, size, NetifDescriptor.TX_ENTRY_LENGTH);
        private final BackRing back = new BackRing(sring, size, NetifDescriptor.TX_ENTRY_LENGTH);

        V1()
        {
            front.init(0);
            back.attach();
        }

        private Thread backend(final boolean batch)
        {
            final Thread t = new Thread(() ->
            {
                while (true)
                {
                    final int available = back.availableRequests();
                    if (available == 0)
                    {
                        Thread.onSpinWait();
                        continue;
                    }
                    boolean stop = false;
                    for (int i = 0; i < available; i++)
                    {
                        final int req = back.requestOffset(i);
                        final int id = NetifEntries.TxRequest.id(sring, req);
                        stop |= NetifEntries.TxRequest.gref(sring, req) == STOP;
                        NetifEntries.TxResponse.write(sring, back.nextResponseOffset(), id, (short)NetifConstants.NETIF_RSP_OKAY);
                        back.produceResponse();
                    }
                    back.consumeRequests(available);
                    back.pushResponsesAndCheckNotify();
                    if (stop)
                    {
                        return;
                    }
                }
            });
            t.start();
            return t;
        }

        private void send(final int id, final int gref)
        {
            NetifEntries.TxRequest.write(sring, front.nextRequestOffset(0), gref, 0, 0, id, 64);
            front.produce(1);
        }

        private int consumeResponses()
        {
            final int n = front.unconsumedResponses();
            for (int i = 0; i < n; i++)
            {
                NetifEntries.TxResponse.id(sring, front.nextResponseOffset());
                front.consumeResponse();
            }
            return n;
        }

        double roundTrip(final int n) throws InterruptedException
        {
            final Thread t = backend(false);
            final long start = System.nanoTime();
            for (int i = 0; i < n; i++)
            {
                send(i & 0xFFFF, i == n - 1 ? STOP : 1);
                front.pushRequestsAndCheckNotify();
                while (consumeResponses() == 0)
                {
                    Thread.onSpinWait();
                }
            }
            final long took = System.nanoTime() - start;
            t.join();
            return (double)took / n;
        }

        double stream(final int n) throws InterruptedException
        {
            final Thread t = backend(true);
            final long start = System.nanoTime();
            int sent = 0;
            int answered = 0;
            while (answered < n)
            {
                int batch = 0;
                while (sent < n && front.freeRequests() > 0 && batch < 32)
                {
                    send(sent & 0xFFFF, sent == n - 1 ? STOP : 1);
                    sent++;
                    batch++;
                }
                front.pushRequestsAndCheckNotify();
                answered += consumeResponses();
            }
            final long took = System.nanoTime() - start;
            t.join();
            return n * 1e3 / took;
        }
    }

    /** Ring v2: requests and responses in rings of their own, a line per side, the entries polled. */
    private static final class V2
    {
        private final UnsafeBuffer region = new UnsafeBuffer(BufferUtil.allocateDirectAligned(REGION, 64));
        private final int size = RingV2Descriptor.ringSize(REGION, RingV2Descriptor.TX_REQUEST_LENGTH);
        private final int responses = RingV2Descriptor.responsesOffset(size, RingV2Descriptor.TX_REQUEST_LENGTH);
        private final RingV2Producer requestsOut = new RingV2Producer(region, size, RingV2Descriptor.ENTRIES_OFFSET,
            RingV2Descriptor.TX_REQUEST_LENGTH, NetifV2Entries.TX_REQUEST_WORD_OFFSET, RingV2Descriptor.REQ_CONS_OFFSET,
            RingV2Descriptor.REQ_EVENT_OFFSET);
        private final RingV2Consumer requestsIn = new RingV2Consumer(region, size, RingV2Descriptor.ENTRIES_OFFSET,
            RingV2Descriptor.TX_REQUEST_LENGTH, NetifV2Entries.TX_REQUEST_WORD_OFFSET, RingV2Descriptor.REQ_CONS_OFFSET,
            RingV2Descriptor.REQ_EVENT_OFFSET);
        private final RingV2Producer responsesOut = new RingV2Producer(region, size, responses, RingV2Descriptor.RESPONSE_LENGTH, 0,
            RingV2Descriptor.RSP_CONS_OFFSET, RingV2Descriptor.RSP_EVENT_OFFSET);
        private final RingV2Consumer responsesIn = new RingV2Consumer(region, size, responses, RingV2Descriptor.RESPONSE_LENGTH, 0,
            RingV2Descriptor.RSP_CONS_OFFSET, RingV2Descriptor.RSP_EVENT_OFFSET);
        private int outstanding;

        V2()
        {
            requestsOut.init(0);
            responsesOut.init(0);
            requestsIn.attachAt(0);
            responsesIn.attachAt(0);
        }

        private Thread backend()
        {
            final Thread t = new Thread(() ->
            {
                while (true)
                {
                    long fields = requestsIn.poll();
                    if (fields < 0)
                    {
                        Thread.onSpinWait();
                        continue;
                    }
                    // the run of requests waiting now, answered by one response word
                    final int first = NetifV2Entries.TxRequest.id(fields);
                    int run = 0;
                    boolean stop = false;
                    while (fields >= 0 && run < 0xFFFF)
                    {
                        stop |= NetifV2Entries.TxRequest.gref(region, requestsIn.entryOffset()) == STOP;
                        requestsIn.consume();
                        run++;
                        fields = requestsIn.poll();
                    }
                    requestsIn.publish();
                    int at;
                    while ((at = responsesOut.claim()) < 0)
                    {
                        Thread.onSpinWait();
                    }
                    responsesOut.commit(at, NetifV2Entries.TxResponse.word(first, NetifConstants.NETIF_RSP_OKAY, run));
                    responsesOut.pushAndCheckNotify();
                    if (stop)
                    {
                        return;
                    }
                }
            });
            t.start();
            return t;
        }

        private boolean send(final int id, final int gref)
        {
            final int at = requestsOut.claim();
            if (at < 0)
            {
                return false;
            }
            requestsOut.commit(at, NetifV2Entries.TxRequest.head(gref, 0, 0), NetifV2Entries.TxRequest.word(id, 64));
            outstanding++;
            return true;
        }

        private int consumeResponses()
        {
            int answered = 0;
            long fields;
            while ((fields = responsesIn.poll()) >= 0)
            {
                answered += NetifV2Entries.TxResponse.run(fields);
                responsesIn.consume();
            }
            if (answered > 0)
            {
                responsesIn.publish();
                outstanding -= answered;
            }
            return answered;
        }

        double roundTrip(final int n) throws InterruptedException
        {
            final Thread t = backend();
            final long start = System.nanoTime();
            for (int i = 0; i < n; i++)
            {
                send(i & 0xFFFF, i == n - 1 ? STOP : 1);
                requestsOut.pushAndCheckNotify();
                while (consumeResponses() == 0)
                {
                    Thread.onSpinWait();
                }
            }
            final long took = System.nanoTime() - start;
            t.join();
            return (double)took / n;
        }

        double stream(final int n) throws InterruptedException
        {
            final Thread t = backend();
            final long start = System.nanoTime();
            int sent = 0;
            int answered = 0;
            while (answered < n)
            {
                int batch = 0;
                // ids stay unique while in flight: at most a ring's worth outstanding
                while (sent < n && outstanding < size && batch < 32 && send(sent & 0xFFFF, sent == n - 1 ? STOP : 1))
                {
                    sent++;
                    batch++;
                }
                requestsOut.pushAndCheckNotify();
                answered += consumeResponses();
            }
            final long took = System.nanoTime() - start;
            t.join();
            return n * 1e3 / took;
        }
    }
}
