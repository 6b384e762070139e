package dev.splitnet.mmap;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Passing a file descriptor over a connected Unix socket ({@code SCM_RIGHTS}), which the JDK's
 * Unix-domain channels do not offer: a frontend sends its sealed device memory with its HELLO (as a
 * Wayland client sends a buffer's memfd, or a vhost-user frontend its memory regions), and the
 * backend answers a tool's INSPECT with a read-only descriptor of it. The calls go straight to the
 * channel's descriptor with {@code sendmsg}/{@code recvmsg}; the channel is not used for I/O by
 * anything else while they run (both happen before the socket carries doorbells).
 *
 * <p>Byte layouts (x86-64 and aarch64 Linux, LP64):
 * <pre>
 * struct msghdr  { void *name; u32 namelen; (pad) ; struct iovec *iov; size_t iovlen;
 *                  void *control; size_t controllen; int flags; }              56 bytes
 * struct iovec   { void *base; size_t len; }                                    16 bytes
 * struct cmsghdr { size_t len; int level; int type; } then data, 8-byte aligned 16 bytes
 * </pre>
 */
public final class DescriptorPassing
{
    private static final int MSGHDR_LENGTH = 56;
    private static final int MSGHDR_IOV_OFFSET = 16;
    private static final int MSGHDR_IOVLEN_OFFSET = 24;
    private static final int MSGHDR_CONTROL_OFFSET = 32;
    private static final int MSGHDR_CONTROLLEN_OFFSET = 40;
    private static final int MSGHDR_FLAGS_OFFSET = 48;
    private static final int IOVEC_LENGTH = 16;
    private static final int IOVEC_LEN_OFFSET = 8;
    private static final int CMSGHDR_LENGTH = 16;
    private static final int CMSG_LEVEL_OFFSET = 8;
    private static final int CMSG_TYPE_OFFSET = 12;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_CTRUNC = 0x8;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_NOSIGNAL = 0x4000;
    /** Received descriptors are close-on-exec from the start (no window for a fork to inherit them). */
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    /** Descriptors one recvmsg takes at most; a message carrying more is refused, never truncated. */
    public static final int MAX_DESCRIPTORS = 8;

    private static final Method FD_VAL = fdValMethod();

    private DescriptorPassing()
    {
    }

    private static Method fdValMethod()
    {
        try
        {
            // sun.nio.ch is opened to the unnamed module by the flags of jvm.options (JvmFlags checks)
            return Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal");
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    /** The raw descriptor of a socket channel, for the calls the JDK does not make. */
    public static int socketFd(final SocketChannel channel)
    {
        try
        {
            return (Integer)FD_VAL.invoke(channel);
        }
        catch (final ReflectiveOperationException | RuntimeException ex)
        {
            throw new DeviceFileException("cannot reach a socket's descriptor (" + ex
                + "); start the JVM with " + JvmFlags.SOCKET_DESCRIPTOR);
        }
    }

    /**
     * After the handshake a socket carries doorbell bytes only: it stops accepting descriptors, so
     * a peer cannot make a plain read() on it receive one and close it there (a descriptor whose
     * last close waits, such as a lingering TCP socket's, would stall the reading thread).
     * Returns false on kernels before Linux 6.16, which lack the option (a read still discards any
     * descriptor sent, as before).
     */
    public static boolean refuseDescriptors(final SocketChannel channel)
    {
        try
        {
            return LibC.refusePassedRights(socketFd(channel));
        }
        catch (final LastErrorException ex)
        {
            throw new DeviceFileException("cannot stop the socket from taking descriptors: " + LibC.strerror(ex.getErrorCode()));
        }
    }

    /** Closes a raw descriptor received or opened for passing; errors ignored. */
    public static void close(final int descriptor)
    {
        LibC.closeQuietly(descriptor);
    }

    private static int cmsgSpace(final int descriptors)
    {
        return CMSGHDR_LENGTH + ((descriptors * Integer.BYTES + 7) & ~7);
    }

    /**
     * Sends the remaining bytes of {@code message}, the first of them carrying {@code descriptor}
     * ({@code -1}: none), waiting until {@code deadlineNs} for room in the socket.
     */
    public static void send(final SocketChannel channel, final ByteBuffer message, final int descriptor, final long deadlineNs)
    {
        send(channel, message, descriptor < 0 ? new int[0] : new int[] {descriptor}, deadlineNs);
    }

    /**
     * Sends the remaining bytes of {@code message}, the first of them carrying every one of
     * {@code descriptors} (at most {@link #MAX_DESCRIPTORS}; a frontend sends one, tests send more to
     * see them refused), waiting until {@code deadlineNs} for room in the socket.
     */
    public static void send(final SocketChannel channel, final ByteBuffer message, final int[] descriptors, final long deadlineNs)
    {
        if (descriptors.length > MAX_DESCRIPTORS)
        {
            throw new IllegalArgumentException(descriptors.length + " descriptors; at most " + MAX_DESCRIPTORS + " go in one message");
        }
        final int fd = socketFd(channel);
        final int length = message.remaining();
        final Memory data = new Memory(Math.max(length, 1));
        for (int i = 0; i < length; i++)
        {
            data.setByte(i, message.get(message.position() + i));
        }
        final Memory iov = new Memory(IOVEC_LENGTH);
        final Memory control = new Memory(cmsgSpace(Math.max(descriptors.length, 1)));
        final Memory msghdr = new Memory(MSGHDR_LENGTH);
        int sent = 0;
        boolean descriptorSent = descriptors.length == 0;
        while (sent < length)
        {
            msghdr.clear();
            iov.setPointer(0, data.share(sent));
            iov.setLong(IOVEC_LEN_OFFSET, length - sent);
            msghdr.setPointer(MSGHDR_IOV_OFFSET, iov);
            msghdr.setLong(MSGHDR_IOVLEN_OFFSET, 1);
            if (!descriptorSent)
            {
                control.clear();
                control.setLong(0, CMSGHDR_LENGTH + (long)Integer.BYTES * descriptors.length);
                control.setInt(CMSG_LEVEL_OFFSET, SOL_SOCKET);
                control.setInt(CMSG_TYPE_OFFSET, SCM_RIGHTS);
                for (int i = 0; i < descriptors.length; i++)
                {
                    control.setInt(CMSGHDR_LENGTH + (long)i * Integer.BYTES, descriptors[i]);
                }
                msghdr.setPointer(MSGHDR_CONTROL_OFFSET, control);
                msghdr.setLong(MSGHDR_CONTROLLEN_OFFSET, cmsgSpace(descriptors.length));
            }
            try
            {
                sent += (int)LibC.sendmsg(fd, msghdr, MSG_DONTWAIT | MSG_NOSIGNAL);
                descriptorSent = true;
            }
            catch (final LastErrorException ex)
            {
                if (ex.getErrorCode() != LibC.EAGAIN && ex.getErrorCode() != LibC.EINTR)
                {
                    throw new Handshake.HandshakeException("cannot send on the backend's socket: " + LibC.strerror(ex.getErrorCode()));
                }
                if (System.nanoTime() - deadlineNs > 0)
                {
                    throw new Handshake.HandshakeException("peer did not take the handshake message in time");
                }
                Thread.onSpinWait();
            }
        }
        message.position(message.position() + length);
    }

    /**
     * Reads a socket with {@code recvmsg}, never blocking, keeping every descriptor that arrives
     * until it is {@link #takeDescriptor taken} or {@link #close closed}. One per connection being
     * read (it owns native buffers); not thread safe.
     */
    public static final class Receiver implements AutoCloseable
    {
        private final int fd;
        private final Memory data = new Memory(Handshake.MAX_MESSAGE_LENGTH);
        private final Memory iov = new Memory(IOVEC_LENGTH);
        private final Memory control = new Memory(cmsgSpace(MAX_DESCRIPTORS));
        private final Memory msghdr = new Memory(MSGHDR_LENGTH);
        private final int[] descriptors = new int[MAX_DESCRIPTORS];
        private int descriptorCount;
        private boolean overflowed;

        public Receiver(final SocketChannel channel)
        {
            this.fd = socketFd(channel);
        }

        /**
         * Reads what is there into {@code into}: the bytes read, 0 when nothing is there yet, -1 at
         * end of stream.
         */
        public int receive(final ByteBuffer into)
        {
            final int room = Math.min(into.remaining(), (int)data.size());
            if (room == 0)
            {
                return 0;
            }
            msghdr.clear();
            control.clear();
            iov.setPointer(0, data);
            iov.setLong(IOVEC_LEN_OFFSET, room);
            msghdr.setPointer(MSGHDR_IOV_OFFSET, iov);
            msghdr.setLong(MSGHDR_IOVLEN_OFFSET, 1);
            msghdr.setPointer(MSGHDR_CONTROL_OFFSET, control);
            msghdr.setLong(MSGHDR_CONTROLLEN_OFFSET, control.size());
            final long read;
            try
            {
                read = LibC.recvmsg(fd, msghdr, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
            }
            catch (final LastErrorException ex)
            {
                if (ex.getErrorCode() == LibC.EAGAIN || ex.getErrorCode() == LibC.EINTR)
                {
                    return 0;
                }
                throw new Handshake.HandshakeException("cannot read the socket: " + LibC.strerror(ex.getErrorCode()));
            }
            keepDescriptors();
            if (read == 0)
            {
                return -1;
            }
            for (int i = 0; i < read; i++)
            {
                into.put(data.getByte(i));
            }
            return (int)read;
        }

        private void keepDescriptors()
        {
            if ((msghdr.getInt(MSGHDR_FLAGS_OFFSET) & MSG_CTRUNC) != 0)
            {
                // the kernel closed what did not fit; what did fit is still kept below and closed later
                overflowed = true;
            }
            final long controlLength = msghdr.getLong(MSGHDR_CONTROLLEN_OFFSET);
            long offset = 0;
            while (offset + CMSGHDR_LENGTH <= controlLength)
            {
                final long length = control.getLong(offset);
                if (length < CMSGHDR_LENGTH || offset + length > controlLength)
                {
                    break;
                }
                if (control.getInt(offset + CMSG_LEVEL_OFFSET) == SOL_SOCKET && control.getInt(offset + CMSG_TYPE_OFFSET) == SCM_RIGHTS)
                {
                    for (long at = offset + CMSGHDR_LENGTH; at + Integer.BYTES <= offset + length; at += Integer.BYTES)
                    {
                        final int received = control.getInt(at);
                        if (descriptorCount < descriptors.length)
                        {
                            descriptors[descriptorCount++] = received;
                        }
                        else
                        {
                            overflowed = true;
                            LibC.closeQuietly(received);
                        }
                    }
                }
                offset += (length + 7) & ~7;
            }
        }

        /** Descriptors received so far (kept, not yet taken). */
        public int descriptorCount()
        {
            return descriptorCount;
        }

        /** Whether more descriptors arrived than fit (the extra were closed). */
        public boolean overflowed()
        {
            return overflowed;
        }

        /** The one descriptor received, now the caller's to close; -1 when none arrived. */
        public int takeDescriptor()
        {
            if (descriptorCount == 0)
            {
                return -1;
            }
            if (descriptorCount > 1 || overflowed)
            {
                throw new Handshake.HandshakeException("the peer sent " + (overflowed ? "more than " + MAX_DESCRIPTORS : descriptorCount)
                    + " descriptors with its message; a HELLO carries at most one, the device memory");
            }
            descriptorCount = 0;
            return descriptors[0];
        }

        /** Closes every descriptor received and not taken. */
        @Override
        public void close()
        {
            for (int i = 0; i < descriptorCount; i++)
            {
                LibC.closeQuietly(descriptors[i]);
            }
            descriptorCount = 0;
        }
    }
}
