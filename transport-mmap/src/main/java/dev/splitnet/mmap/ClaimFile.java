package dev.splitnet.mmap;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The small file {@code DIR/NAME.dev} a frontend with sealed device memory keeps in the shared
 * directory: the device memory itself is a memfd with no name, so this file is what claims the
 * name (the frontend holds its OFD lock for as long as it lives, exactly as it does on a file-backed
 * device file) and what tells a tool that finds no backend what is there. Never mapped: a reader
 * reads it with {@code pread}, so a frontend that truncates it can make a read come up short, never
 * fault. Written only by its frontend.
 *
 * <pre>
 *   0 magic "SNCLAIM1":u64 | 8 layout_version:u32 | 12 frontend_state:u32 (a mirror of the control page's)
 *  16 pid:u64 (the frontend's, in its own PID namespace) | 24 memory_length:u64     32 bytes
 * </pre>
 */
public final class ClaimFile
{
    /** "SNCLAIM1" read as a little-endian 64-bit word. */
    public static final long MAGIC = 0x314D49414C434E53L;
    public static final int MAGIC_OFFSET = 0;
    public static final int LAYOUT_VERSION_OFFSET = 8;
    public static final int FRONTEND_STATE_OFFSET = 12;
    public static final int PID_OFFSET = 16;
    public static final int MEMORY_LENGTH_OFFSET = 24;
    public static final int LENGTH = 32;

    private ClaimFile()
    {
    }

    /** What a claim says. */
    public record Contents(int layoutVersion, int frontendState, long pid, long memoryLength)
    {
    }

    /** Frontend: writes the whole claim through the open file. */
    static void write(final DeviceFile file, final int frontendState, final long pid, final long memoryLength)
    {
        final ByteBuffer b = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(MAGIC_OFFSET, MAGIC).putInt(LAYOUT_VERSION_OFFSET, ControlDescriptor.LAYOUT_VERSION)
            .putInt(FRONTEND_STATE_OFFSET, frontendState).putLong(PID_OFFSET, pid).putLong(MEMORY_LENGTH_OFFSET, memoryLength);
        writeAt(file, b, 0);
    }

    /** Frontend: mirrors a state change into the claim (at connect and close, never per packet). */
    static void writeFrontendState(final DeviceFile file, final int frontendState)
    {
        final ByteBuffer b = ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN).putInt(0, frontendState);
        writeAt(file, b, FRONTEND_STATE_OFFSET);
    }

    private static void writeAt(final DeviceFile file, final ByteBuffer b, final long position)
    {
        // through /proc/self/fd/N: the open inode, whatever the name is now
        try (FileChannel channel = FileChannel.open(file.procFile().toPath(), StandardOpenOption.WRITE))
        {
            while (b.hasRemaining())
            {
                channel.write(b, position + b.position());
            }
        }
        catch (final IOException ex)
        {
            throw new DeviceFileException("cannot write claim file " + file.path() + ": " + ex, ex);
        }
    }

    /**
     * Reads the claim at {@code path} (opened once, not following a link, owned by this process's
     * user); null when the file there is not a claim (a file-backed device file).
     */
    public static Contents readFrom(final Path path)
    {
        try (DeviceFile file = DeviceFile.openExisting(path, true, DeviceFile.processUid()))
        {
            return read(file);
        }
    }

    /**
     * Reads a claim from an open file; null when the file is not a claim (too short, too long, or
     * another magic), so the caller can take it for a file-backed device file instead.
     */
    static Contents read(final DeviceFile file)
    {
        if (file.size() != LENGTH)
        {
            return null;
        }
        final ByteBuffer b = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel channel = FileChannel.open(file.procFile().toPath(), StandardOpenOption.READ))
        {
            while (b.hasRemaining() && channel.read(b, b.position()) > 0)
            {
                // pread until full or end of file
            }
        }
        catch (final IOException ex)
        {
            throw new DeviceFileException("cannot read " + file.path() + ": " + ex, ex);
        }
        if (b.position() != LENGTH || b.getLong(MAGIC_OFFSET) != MAGIC)
        {
            return null;
        }
        return new Contents(b.getInt(LAYOUT_VERSION_OFFSET), b.getInt(FRONTEND_STATE_OFFSET), b.getLong(PID_OFFSET),
            b.getLong(MEMORY_LENGTH_OFFSET));
    }
}
