package dev.splitnet.mmap;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import net.openhft.chronicle.bytes.MappedBytesStore;
import net.openhft.chronicle.bytes.MappedFile;
import net.openhft.chronicle.core.io.ReferenceOwner;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One process's mapping of a whole device file. Chronicle Bytes owns the mapping's lifecycle:
 * it maps the file, keeps the reference count, and unmaps it deterministically on {@link #close}
 * (not whenever the GC gets to a MappedByteBuffer). Agrona's {@link UnsafeBuffer} is the flyweight
 * every other class reads and writes through. The reference counting stays inside this class.
 */
public final class DeviceMapping implements AutoCloseable
{
    private final File file;
    private final MappedFile mappedFile;
    private final MappedBytesStore store;
    private final ReferenceOwner owner;
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
        this.owner = ReferenceOwner.temporary("splitnet-device");
        // Chronicle opens the descriptor's /proc/self/fd/N, the inode already opened and checked,
        // never the name again: whatever the name points to by now is not what gets mapped.
        this.mappedFile = MappedFile.ofSingle(deviceFile.procFile(), length, readOnly);
        try
        {
            this.store = mappedFile.acquireByteStore(owner, 0);
        }
        catch (final IOException | RuntimeException ex)
        {
            mappedFile.releaseLast();
            throw ex;
        }
        final long address = readOnly ? store.addressForRead(0) : store.addressForWrite(0);
        this.buffer = new UnsafeBuffer(address, (int)length);
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
     * The file's current size through the mapped file's own descriptor (the path may already be
     * unlinked); a size below {@link #length()} means the owner truncated it under the mapping.
     */
    public long currentFileSize()
    {
        try
        {
            return mappedFile.raf().getChannel().size();
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
     * is a second, read-only mapping of the same pages, made once per device from the mapped file's
     * own descriptor (not by name) and unmapped in {@link #close}.
     */
    public synchronized ByteBuffer mapChannelView(final long offset, final int viewLength) throws IOException
    {
        if (channelView != null)
        {
            throw new IllegalStateException(file + ": channel view already mapped");
        }
        channelView = mappedFile.raf().getChannel().map(FileChannel.MapMode.READ_ONLY, offset, viewLength);
        return channelView;
    }

    /** Unmaps; idempotent. */
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
        store.release(owner);
        mappedFile.releaseLast();
    }
}
