package dev.splitnet.api;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * One payload fragment of a received packet in the backend, still in the frontend's granted
 * frame. Nothing is mapped until the CPU first reads it: that first access goes through the fault
 * handler (one fault, one grant map). {@link #transferTo} pins the grant for a channel transfer
 * without mapping it for the CPU.
 */
public interface Fragment
{
    /** Bytes in this fragment. */
    int length();

    /** Reads one byte (faults the fragment in on first access). */
    byte getByte(int index);

    /** Copies bytes out (faults the fragment in on first access); counted in {@code payload_bytes_copied}. */
    void getBytes(int index, MutableDirectBuffer dst, int dstIndex, int length);

    /**
     * The mapped fragment for repeated reads (faults it in on first access). Reads through this view
     * are not counted in {@code payload_bytes_copied}: use {@link #getBytes} for a counted copy.
     */
    DirectBuffer buffer();

    /** Writes the fragment to a channel straight from the shared mapping; the CPU never reads it. */
    int transferTo(WritableByteChannel channel) throws IOException;
}
