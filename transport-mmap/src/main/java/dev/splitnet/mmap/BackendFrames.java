package dev.splitnet.mmap;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.file.Path;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A backend's frames for one frontend (lazy receive): memory the backend creates, owns and writes,
 * which that frontend maps read-only and reads through its P2M while the backend lends a frame.
 * The memory is a memfd sealed against growing, shrinking and new writable mappings once the
 * backend has mapped it (F_SEAL_FUTURE_WRITE): the frontend gets a read-only descriptor with its
 * WELCOME and could not map it writable even by reopening it. One per frontend, so no frontend
 * ever maps frames another frontend is lent.
 */
public final class BackendFrames implements AutoCloseable
{
    /** Seals of a pool as its backend leaves it: no resize, no new writable mapping, no more seals. */
    static final int POOL_SEALS = LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW | LibC.F_SEAL_FUTURE_WRITE | LibC.F_SEAL_SEAL;
    /** Frames a pool may hold at most (a 16-bit RX id names at most as many buffers). */
    public static final int MAX_FRAMES = 0xFFFF;

    private final DeviceFile memory;
    private final DeviceMapping mapping;
    private final UnsafeBuffer frames;
    private final int frameCount;

    private BackendFrames(final DeviceFile memory, final DeviceMapping mapping, final int frameCount)
    {
        this.memory = memory;
        this.mapping = mapping;
        this.frames = mapping.buffer();
        this.frameCount = frameCount;
    }

    /** Backend: creates and maps {@code frameCount} frames for the frontend of device {@code deviceName}, then seals them. */
    public static BackendFrames create(final String deviceName, final int frameCount)
    {
        if (frameCount < 1 || frameCount > MAX_FRAMES)
        {
            throw new IllegalArgumentException("a backend frame pool holds 1 to " + MAX_FRAMES + " frames, not " + frameCount);
        }
        final Path label = Path.of("backend frames of " + deviceName);
        DeviceFile memory = null;
        try
        {
            memory = DeviceFile.wrapMemory(label, LibC.memfdCreate("splitnet-frames:" + deviceName));
            final long length = (long)frameCount * DeviceLayout.PAGE_SIZE;
            LibC.ftruncate(memory.fd(), length);
            final DeviceMapping mapping = DeviceMapping.map(memory, length, false);
            try
            {
                // mapped writable first: after F_SEAL_FUTURE_WRITE no new writable mapping can be made
                LibC.addSeals(memory.fd(), POOL_SEALS);
            }
            catch (final LastErrorException ex)
            {
                mapping.close();
                throw ex;
            }
            return new BackendFrames(memory, mapping, frameCount);
        }
        catch (final LastErrorException ex)
        {
            closeQuietly(memory);
            throw new DeviceFileException("cannot create the " + frameCount + " backend frames of device " + deviceName + ": "
                + LibC.strerror(ex.getErrorCode()) + " (errno " + ex.getErrorCode() + "); lazy receive needs memfd and "
                + "F_SEAL_FUTURE_WRITE (Linux 5.1) and the memory for them; start the backend with --rx-mode copy to do without", ex);
        }
        catch (final IOException | RuntimeException ex)
        {
            closeQuietly(memory);
            throw new DeviceFileException("cannot map the " + frameCount + " backend frames of device " + deviceName + ": " + ex, ex);
        }
    }

    /**
     * Frontend: takes over {@code fd}, the backend's frames as its WELCOME sent them, checks them as
     * untrusted input (sealed memory on tmpfs, with no name, a whole number of frames, at most
     * {@link #MAX_FRAMES}) and maps them read-only. The descriptor is this method's from the call
     * on: closed with the pool, or at once when anything is wrong.
     */
    public static BackendFrames adoptReadOnly(final int fd, final String deviceName)
    {
        final String what = "the backend frames sent to device " + deviceName;
        final DeviceFile memory = DeviceFile.wrapMemory(Path.of("backend frames of " + deviceName), fd);
        try
        {
            final int seals;
            try
            {
                seals = LibC.seals(fd);
            }
            catch (final LastErrorException ex)
            {
                throw new DeviceFileException(what + " are not sealed memory (" + LibC.strerror(ex.getErrorCode())
                    + "); the backend broke the handshake");
            }
            if (seals != POOL_SEALS)
            {
                throw new DeviceFileException(what + " have seals 0x" + Integer.toHexString(seals) + ", expected 0x"
                    + Integer.toHexString(POOL_SEALS) + " (shrink, grow, future-write, seal): memory that can still change size "
                    + "could fault under the frontend's reads; the backend broke the handshake");
            }
            if (LibC.fileSystemType(fd) != LibC.TMPFS_MAGIC)
            {
                throw new DeviceFileException(what + " are not on tmpfs (hugetlbfs pages can be taken away); the backend broke the handshake");
            }
            final long length = memory.size();
            if (length <= 0 || length % DeviceLayout.PAGE_SIZE != 0 || length / DeviceLayout.PAGE_SIZE > MAX_FRAMES)
            {
                throw new DeviceFileException(what + " are " + length + " bytes, not 1 to " + MAX_FRAMES + " whole "
                    + DeviceLayout.PAGE_SIZE + "-byte frames; the backend broke the handshake");
            }
            return new BackendFrames(memory, DeviceMapping.map(memory, length, true), (int)(length / DeviceLayout.PAGE_SIZE));
        }
        catch (final IOException | RuntimeException ex)
        {
            memory.close();
            if (ex instanceof DeviceFileException)
            {
                throw (DeviceFileException)ex;
            }
            throw new DeviceFileException("cannot map " + what + ": " + ex, ex);
        }
    }

    /** Backend: a new read-only descriptor of the frames, for the frontend's WELCOME; the caller closes it. */
    public int readOnlyDescriptor()
    {
        return memory.reopenReadOnly();
    }

    public int frameCount()
    {
        return frameCount;
    }

    /** All frames, frame {@code f} at byte {@code f * PAGE_SIZE} (read-only memory in a frontend: never write it there). */
    public UnsafeBuffer frames()
    {
        return frames;
    }

    /** Address of pool frame {@code frame}. */
    public long frameAddress(final int frame)
    {
        return frames.addressOffset() + (long)frame * DeviceLayout.PAGE_SIZE;
    }

    @Override
    public void close()
    {
        mapping.close();
        memory.close();
    }

    private static void closeQuietly(final DeviceFile memory)
    {
        if (memory != null)
        {
            memory.close();
        }
    }
}
