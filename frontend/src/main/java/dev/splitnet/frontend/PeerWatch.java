package dev.splitnet.frontend;

import dev.splitnet.mmap.ControlDescriptor;
import dev.splitnet.mmap.Device;
import dev.splitnet.mmap.Doorbell;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.AtomicBuffer;

/**
 * Watches the backend on the wall clock, every {@link #CHECK_INTERVAL_NS} of it however often the
 * application polls: the device file still whole (checked first, so a truncated file is noticed
 * without touching the mapping), the doorbell socket still open, no doorbell storm, and the
 * backend's heartbeat word (PROTOCOL.md, "Liveness") still moving. Allocation-free unless the peer fails.
 */
final class PeerWatch
{
    /** How often the peer is checked, in wall time. */
    static final long CHECK_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(10);
    /**
     * Drains in a row that found more than a drain's bound (16 KiB) of doorbells waiting. An honest
     * backend rings at most once per event the frontend armed, so even one such drain means a storm;
     * eight (about 80 ms of it at the check interval) disconnect.
     */
    static final int MAX_FLOODS_IN_A_ROW = 8;

    private final Device device;
    private final AtomicBuffer control;
    private final Doorbell doorbell;
    private final long timeoutNs;
    private final long fileLength;
    private long nextCheckNs;
    private long lastBeat;
    private long lastBeatChangeNs;
    private int floodsInARow;

    PeerWatch(final Device device, final Doorbell doorbell, final long backendTimeoutMs, final long nowNs)
    {
        this.device = device;
        this.control = device.control();
        this.doorbell = doorbell;
        this.timeoutNs = TimeUnit.MILLISECONDS.toNanos(backendTimeoutMs);
        this.fileLength = device.layout().fileLength();
        this.lastBeat = ControlDescriptor.backendHeartbeat(control);
        this.lastBeatChangeNs = nowNs;
        this.nextCheckNs = nowNs + CHECK_INTERVAL_NS;
    }

    /** Whether a check is due at {@code nowNs}. */
    boolean isDue(final long nowNs)
    {
        return nowNs - nextCheckNs >= 0;
    }

    /**
     * Checks the peer now.
     *
     * @return why the backend must be treated as gone, or null while it is fine.
     */
    String check(final long nowNs)
    {
        nextCheckNs = nowNs + CHECK_INTERVAL_NS;
        final String file = checkLength();
        if (file != null)
        {
            return file;
        }
        if (doorbell.drain() < 0)
        {
            return "backend closed the connection (it exited or died)";
        }
        floodsInARow = doorbell.isFlooding() ? floodsInARow + 1 : 0;
        if (floodsInARow >= MAX_FLOODS_IN_A_ROW)
        {
            return "doorbell storm: " + floodsInARow + " drains in a row found more doorbells than an honest backend rings";
        }
        final long beat = ControlDescriptor.backendHeartbeat(control);
        if (beat != lastBeat)
        {
            lastBeat = beat;
            lastBeatChangeNs = nowNs;
        }
        else if (nowNs - lastBeatChangeNs > timeoutNs)
        {
            return "backend heartbeat stopped for " + TimeUnit.NANOSECONDS.toMillis(nowNs - lastBeatChangeNs)
                + " ms (backendTimeoutMs=" + TimeUnit.NANOSECONDS.toMillis(timeoutNs)
                + "): the backend is stopped, hung or starved; its socket is still open";
        }
        return null;
    }

    /**
     * Null while the device file is as long as its layout, else what is wrong: one fstat, no
     * allocation (a file truncated and regrown is caught by the fault it causes, see {@link #checkFile}).
     */
    String checkLength()
    {
        final long size = device.mapping().currentFileSize();
        if (size >= 0 && size < fileLength)
        {
            return "device file " + device.path() + " was truncated to " + size + " of " + fileLength
                + " bytes under the mapping; the mapping is no longer touched";
        }
        return null;
    }

    /** Null while the device file is as long as its layout and has no hole, else what is wrong (allocates). */
    String checkFile()
    {
        final String length = checkLength();
        if (length != null)
        {
            return length;
        }
        final long hole = device.firstHole();
        if (hole >= 0 && hole < fileLength)
        {
            return "device file " + device.path() + " has a hole at " + hole + " (truncated and regrown, or punched)"
                + "; the mapping is no longer touched";
        }
        return null;
    }
}
