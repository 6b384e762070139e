package dev.splitnet.frontend;

import dev.splitnet.api.ReceivedPacket;
import dev.splitnet.api.SendResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the cases against a {@link HostileBackend} share, in either ring format: the frontend and
 * the backend of a case (closed after it), the completions and packets the frontend reported,
 * sending, and a poll that fails the case if anything is thrown out of it.
 */
abstract class HostileBackendCases
{
    static final long DEADLINE_NS = TimeUnit.SECONDS.toNanos(6);
    static final int IN_FLIGHT = 3;

    @TempDir
    Path dir;

    HostileBackend backend;
    NetFront front;
    final Completions completions = new Completions();
    final List<byte[]> received = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception
    {
        if (front != null)
        {
            front.close();
        }
        if (backend != null)
        {
            backend.close();
        }
    }

    /** Sends packets first to first+count-1 (a header and a payload: two requests each). */
    void send(final int first, final int count)
    {
        final UnsafeBuffer bytes = new UnsafeBuffer(new byte[256]);
        for (int i = first; i < first + count; i++)
        {
            assertEquals(SendResult.SENT, front.send(bytes, 0, 32, bytes, 32, 100, i));
        }
    }

    /** Polls; any throwable out of poll fails the test. */
    int poll()
    {
        try
        {
            return front.poll(completions, packet -> received.add(copy(packet)));
        }
        catch (final Throwable t)
        {
            throw new AssertionError("poll threw instead of disconnecting: " + t, t);
        }
    }

    static byte[] copy(final ReceivedPacket packet)
    {
        final UnsafeBuffer to = new UnsafeBuffer(new byte[packet.length()]);
        packet.copyTo(to, 0);
        return to.byteArray();
    }
}
