package dev.splitnet.mmap;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One process's mapping of a whole device file, made from the file's one descriptor
 * ({@link DeviceFile}: {@code /proc/self/fd/N} names the open inode, never the name again) and
 * unmapped deterministically on {@link #close} with Agrona's {@code IoUtil.unmap}, not whenever the
 * GC gets to a MappedByteBuffer. Agrona's {@link UnsafeBuffer} is the flyweight every other class
 * reads and writes through.
 *
 * <p>This used to be Chronicle Bytes' job ({@code MappedFile}), but Chronicle Bytes 2026.4 left
 * every mapping in place after its last release (two per connect and disconnect, one per look of a
 * tool: seen in /proc/self/maps by ConnectCycleLeakTest and ReadOnlyMappingLeakTest), so a
 * long-running backend or the fuzzer ran into {@code vm.max_map_count}. The JDK's own mapping and
 * one explicit unmap do it with nothing left behind.
 */
public final class DeviceMapping implements AutoCloseable
{
    private final File file;
    private final FileChannel channel;
    private final MappedByteBuffer mapped;
    private final UnsafeBuffer buffer;
    private final long length;
    private MappedByteBuffer channelView;
    private boolean closed;

    private DeviceMapping(final DeviceFile deviceFile, final long length, final boolean readOnly) throws IOException
    {
        this.file = deviceFile.path().toFile();
        if (length > Integer.MAX_VALUE)
        {
            throw new DeviceFileException(file + ": " + length + " bytes is too large to map (limit 2 GiB)");
        }
        this.length = length;
        this.channel = readOnly
            ? FileChannel.open(deviceFile.procFile().toPath(), StandardOpenOption.READ)
            : FileChannel.open(deviceFile.procFile().toPath(), StandardOpenOption.READ, StandardOpenOption.WRITE);
        try
        {
            this.mapped = channel.map(readOnly ? FileChannel.MapMode.READ_ONLY : FileChannel.MapMode.READ_WRITE, 0, length);
        }
        catch (final IOException | RuntimeException ex)
        {
            channel.close();
            throw ex;
        }
        this.buffer = new UnsafeBuffer(mapped);
    }

    /**
     * Maps {@code length} bytes of an open device file (its size as checked, or as reserved by its
     * creator), read-only for tools that only look.
     */
    static DeviceMapping map(final DeviceFile deviceFile, final long length, final boolean readOnly) throws IOException
    {
        return new DeviceMapping(deviceFile, length, readOnly);
    }

    public File file()
    {
        return file;
    }

    public long length()
    {
        return length;
    }

    /**
     * The file's current size through the mapping's own descriptor (the path may already be
     * unlinked); a size below {@link #length()} means the owner truncated it under the mapping.
     */
    public long currentFileSize()
    {
        try
        {
            return channel.size();
        }
        catch (final IOException ex)
        {
            return -1;
        }
    }

    /** The whole file. */
    public UnsafeBuffer buffer()
    {
        return buffer;
    }

    /** A flyweight over one region of the file. */
    public UnsafeBuffer region(final long offset, final long regionLength)
    {
        if (offset < 0 || regionLength < 0 || offset + regionLength > length)
        {
            throw new DeviceFileException(file + ": region [" + offset + ", " + (offset + regionLength) + ") is outside the file");
        }
        return new UnsafeBuffer(buffer.addressOffset() + offset, (int)regionLength);
    }

    /**
     * A ByteBuffer over {@code [offset, offset+viewLength)} for channel I/O straight from the shared
     * pages (zero-copy egress). The JDK's channels take ByteBuffers, not addresses, so this one view
     * is a second, read-only mapping of the same pages, made once per device from the same
     * descriptor (not by name) and unmapped in {@link #close}.
     */
    public synchronized ByteBuffer mapChannelView(final long offset, final int viewLength) throws IOException
    {
        if (channelView != null)
        {
            throw new IllegalStateException(file + ": channel view already mapped");
        }
        channelView = channel.map(FileChannel.MapMode.READ_ONLY, offset, viewLength);
        return channelView;
    }

    /** Unmaps; idempotent. No flyweight over the mapping may be used afterwards. */
    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        if (channelView != null)
        {
            IoUtil.unmap(channelView);
            channelView = null;
        }
        IoUtil.unmap(mapped);
        try
        {
            channel.close();
        }
        catch (final IOException ignore)
        {
            // the mapping is gone; the descriptor goes with the channel either way
        }
    }
}
