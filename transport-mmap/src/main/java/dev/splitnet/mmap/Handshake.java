package dev.splitnet.mmap;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * The connect messages on the backend's socket, the counterpart of xenbus negotiation. Each
 * message is {@code magic:u32 length:u32} then its fields, little-endian; after WELCOME the socket
 * carries doorbell bytes only.
 *
 * <pre>
 * PROBE     (frontend -> backend): magic "SNPR", length                       (optional, before HELLO)
 * ADVERTISE (backend -> frontend): magic "SNAD", length, features_accepted:u64
 *                                  the features this backend negotiates: a frontend lays its rings
 *                                  out in the format they select, then sends its HELLO on the same
 *                                  connection (Xen's order: the backend advertises first)
 * HELLO     (frontend -> backend): magic "SNHI", length, version:u32, pid:u64, features_offered:u64,
 *                                  name_length:u16, device name (UTF-8)
 *                                  + SCM_RIGHTS: the sealed device memory's descriptor (none: file-backed)
 * WELCOME   (backend -> frontend): magic "SNWE", length, status:i32, domain_id:u32,
 *                                  features_negotiated:u64, backend_pid:u64, reason_length:u16, reason
 * INSPECT   (tool -> backend):     magic "SNIN", length, name_length:u16, device name
 * INSPECTED (backend -> tool):     magic "SNIR", length, status:i32, reason_length:u16, reason
 *                                  + SCM_RIGHTS when status is 0: a read-only descriptor of the memory
 * </pre>
 */
public final class Handshake
{
    public static final int HELLO_MAGIC = 0x49484E53;   // "SNHI"
    public static final int WELCOME_MAGIC = 0x45574E53; // "SNWE"
    public static final int INSPECT_MAGIC = 0x4E494E53; // "SNIN"
    public static final int INSPECTED_MAGIC = 0x52494E53; // "SNIR"
    public static final int PROBE_MAGIC = 0x52504E53; // "SNPR"
    public static final int ADVERTISE_MAGIC = 0x44414E53; // "SNAD"
    public static final int MAX_MESSAGE_LENGTH = 1024;
    public static final int STATUS_OK = 0;
    public static final int STATUS_REFUSED = 1;

    private static final int FRAME_HEADER_LENGTH = 8;
    private static final int MAX_REASON_LENGTH = MAX_MESSAGE_LENGTH - 64;

    private Handshake()
    {
    }

    /** A frontend's request to connect. */
    public record Hello(int version, long pid, long featuresOffered, String deviceName)
    {
    }

    /** A backend's answer: accepted with a domain id and features, or refused with a reason. */
    public record Welcome(int status, int domainId, long featuresNegotiated, long backendPid, String reason)
    {
    }

    /** A backend's answer to a PROBE: the features it negotiates. */
    public record Advertise(long featuresAccepted)
    {
    }

    /** A tool's request to look at a connected device's sealed memory. */
    public record Inspect(String deviceName)
    {
    }

    /** A backend's answer to an INSPECT; a descriptor comes with it when {@code status} is OK. */
    public record Inspected(int status, String reason)
    {
    }

    /**
     * Frontend: sends its HELLO, with the device's memory descriptor attached when the memory is
     * sealed (the backend has no other way to it), waiting until {@code deadlineNs} for room.
     */
    public static void sendHello(final SocketChannel channel, final Hello hello, final Device device, final long deadlineNs)
    {
        DescriptorPassing.send(channel, encode(hello), device.isSealedMemory() ? device.memoryFd() : -1, deadlineNs);
    }

    /** The PROBE message: no fields. */
    public static ByteBuffer encodeProbe()
    {
        return frame(PROBE_MAGIC, 0).flip();
    }

    public static ByteBuffer encode(final Advertise advertise)
    {
        return frame(ADVERTISE_MAGIC, 8).putLong(advertise.featuresAccepted()).flip();
    }

    public static Advertise decodeAdvertise(final ByteBuffer buffer)
    {
        try
        {
            final ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            b.position(b.position() + FRAME_HEADER_LENGTH);
            return new Advertise(b.getLong());
        }
        catch (final RuntimeException ex)
        {
            throw new HandshakeException("malformed ADVERTISE: " + ex);
        }
    }

    public static ByteBuffer encode(final Inspect inspect)
    {
        final byte[] name = inspect.deviceName().getBytes(StandardCharsets.UTF_8);
        final int nameLength = Math.min(name.length, MAX_REASON_LENGTH);
        final ByteBuffer b = frame(INSPECT_MAGIC, 2 + nameLength);
        b.putShort((short)nameLength).put(name, 0, nameLength);
        return b.flip();
    }

    public static ByteBuffer encode(final Inspected inspected)
    {
        final byte[] reason = inspected.reason().getBytes(StandardCharsets.UTF_8);
        final int reasonLength = Math.min(reason.length, MAX_REASON_LENGTH);
        final ByteBuffer b = frame(INSPECTED_MAGIC, 4 + 2 + reasonLength);
        b.putInt(inspected.status()).putShort((short)reasonLength).put(reason, 0, reasonLength);
        return b.flip();
    }

    public static Inspect decodeInspect(final ByteBuffer buffer)
    {
        try
        {
            final ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            b.position(b.position() + FRAME_HEADER_LENGTH);
            final byte[] name = new byte[b.getShort() & 0xFFFF];
            b.get(name);
            return new Inspect(new String(name, StandardCharsets.UTF_8));
        }
        catch (final RuntimeException ex)
        {
            throw new HandshakeException("malformed INSPECT: " + ex);
        }
    }

    public static Inspected decodeInspected(final ByteBuffer buffer)
    {
        try
        {
            final ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            b.position(b.position() + FRAME_HEADER_LENGTH);
            final int status = b.getInt();
            final byte[] reason = new byte[b.getShort() & 0xFFFF];
            b.get(reason);
            return new Inspected(status, new String(reason, StandardCharsets.UTF_8));
        }
        catch (final RuntimeException ex)
        {
            throw new HandshakeException("malformed INSPECTED: " + ex);
        }
    }

    /** The magic of the message at the start of {@code buffer}; call after {@link #completeLength} said it is whole. */
    public static int magic(final ByteBuffer buffer)
    {
        return buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    public static ByteBuffer encode(final Hello hello)
    {
        final byte[] name = hello.deviceName().getBytes(StandardCharsets.UTF_8);
        final ByteBuffer b = frame(HELLO_MAGIC, 4 + 8 + 8 + 2 + name.length);
        b.putInt(hello.version()).putLong(hello.pid()).putLong(hello.featuresOffered()).putShort((short)name.length).put(name);
        return b.flip();
    }

    public static ByteBuffer encode(final Welcome welcome)
    {
        final byte[] reason = welcome.reason().getBytes(StandardCharsets.UTF_8);
        final int reasonLength = Math.min(reason.length, MAX_REASON_LENGTH);
        final ByteBuffer b = frame(WELCOME_MAGIC, 4 + 4 + 8 + 8 + 2 + reasonLength);
        b.putInt(welcome.status()).putInt(welcome.domainId()).putLong(welcome.featuresNegotiated()).putLong(welcome.backendPid())
            .putShort((short)reasonLength).put(reason, 0, reasonLength);
        return b.flip();
    }

    private static ByteBuffer frame(final int magic, final int bodyLength)
    {
        final ByteBuffer b = ByteBuffer.allocate(FRAME_HEADER_LENGTH + bodyLength).order(ByteOrder.LITTLE_ENDIAN);
        return b.putInt(magic).putInt(FRAME_HEADER_LENGTH + bodyLength);
    }

    /**
     * The length of the complete message at the start of {@code buffer} (flipped for reading), 0
     * when more bytes are needed.
     *
     * @throws HandshakeException when the bytes cannot be such a message.
     */
    public static int completeLength(final ByteBuffer buffer, final int expectedMagic)
    {
        return completeLength(buffer, expectedMagic, expectedMagic);
    }

    /** As {@link #completeLength(ByteBuffer, int)}, for a message that may be either of two kinds. */
    public static int completeLength(final ByteBuffer buffer, final int expectedMagic, final int otherMagic)
    {
        return completeLength(buffer, expectedMagic, otherMagic, otherMagic);
    }

    /** As {@link #completeLength(ByteBuffer, int)}, for a message that may be any of three kinds. */
    public static int completeLength(final ByteBuffer buffer, final int expectedMagic, final int otherMagic, final int thirdMagic)
    {
        if (buffer.remaining() < FRAME_HEADER_LENGTH)
        {
            return 0;
        }
        final ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        final int magic = b.getInt();
        final int length = b.getInt();
        if (magic != expectedMagic && magic != otherMagic && magic != thirdMagic)
        {
            throw new HandshakeException("unexpected handshake magic 0x" + Integer.toHexString(magic)
                + " (expected 0x" + Integer.toHexString(expectedMagic) + "): the peer is not a splitnet peer of this version");
        }
        if (length < FRAME_HEADER_LENGTH || length > MAX_MESSAGE_LENGTH)
        {
            throw new HandshakeException("handshake message length " + length + " out of range");
        }
        return buffer.remaining() >= length ? length : 0;
    }

    public static Hello decodeHello(final ByteBuffer buffer)
    {
        try
        {
            final ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            b.position(b.position() + FRAME_HEADER_LENGTH);
            final int version = b.getInt();
            final long pid = b.getLong();
            final long features = b.getLong();
            final byte[] name = new byte[b.getShort() & 0xFFFF];
            b.get(name);
            return new Hello(version, pid, features, new String(name, StandardCharsets.UTF_8));
        }
        catch (final RuntimeException ex)
        {
            throw new HandshakeException("malformed HELLO: " + ex);
        }
    }

    public static Welcome decodeWelcome(final ByteBuffer buffer)
    {
        try
        {
            final ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            b.position(b.position() + FRAME_HEADER_LENGTH);
            final int status = b.getInt();
            final int domainId = b.getInt();
            final long features = b.getLong();
            final long pid = b.getLong();
            final byte[] reason = new byte[b.getShort() & 0xFFFF];
            b.get(reason);
            return new Welcome(status, domainId, features, pid, new String(reason, StandardCharsets.UTF_8));
        }
        catch (final RuntimeException ex)
        {
            throw new HandshakeException("malformed WELCOME: " + ex);
        }
    }

    /** Writes a whole message to a blocking or non-blocking channel, giving up at the deadline. */
    public static void writeFully(final SocketChannel channel, final ByteBuffer message, final long deadlineNs) throws IOException
    {
        while (message.hasRemaining())
        {
            if (channel.write(message) == 0)
            {
                if (System.nanoTime() - deadlineNs > 0)
                {
                    throw new HandshakeException("peer did not take the handshake message in time");
                }
                Thread.onSpinWait();
            }
        }
    }

    /** A connect exchange that went wrong. */
    public static final class HandshakeException extends DeviceFileException
    {
        private static final long serialVersionUID = 1L;

        public HandshakeException(final String message)
        {
            super(message);
        }
    }
}
