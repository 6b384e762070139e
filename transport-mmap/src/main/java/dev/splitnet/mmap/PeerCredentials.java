package dev.splitnet.mmap;

import com.sun.jna.LastErrorException;
import java.nio.channels.SocketChannel;

/**
 * Who is at the other end of a connected Unix socket, as the kernel recorded it at connect
 * (getsockopt SO_PEERCRED), not as the peer says: the backend checks a connecting frontend's uid
 * against the owner of the device file it names. The JDK's {@code ExtendedSocketOptions.SO_PEERCRED}
 * gives only user and group names; the numbers come from the socket's descriptor.
 *
 * @param pid the peer's pid in this process's PID namespace (0 when the peer is in another one).
 * @param uid the peer's effective uid.
 * @param gid the peer's effective gid.
 */
public record PeerCredentials(int pid, int uid, int gid)
{
    /** The credentials of {@code channel}'s peer; throws when the channel has none (not a Unix socket). */
    public static PeerCredentials of(final SocketChannel channel)
    {
        final int fd = DescriptorPassing.socketFd(channel);
        try
        {
            final int[] ucred = LibC.peerCredentials(fd);
            return new PeerCredentials(ucred[0], ucred[1], ucred[2]);
        }
        catch (final LastErrorException ex)
        {
            throw new DeviceFileException("cannot read the connecting process's credentials: " + LibC.strerror(ex.getErrorCode()));
        }
    }
}
