package dev.splitnet.mmap;

import dev.splitnet.api.Remedy;
import dev.splitnet.api.SplitnetException;

/** A device file or directory that cannot be used: missing, stale, corrupt or of another version. */
public class DeviceFileException extends SplitnetException
{
    private static final long serialVersionUID = 1L;

    public DeviceFileException(final String message)
    {
        super(message);
    }

    public DeviceFileException(final String message, final Throwable cause)
    {
        super(message, cause);
    }

    public DeviceFileException(final String message, final Remedy remedy)
    {
        super(message, remedy);
    }

    public DeviceFileException(final String message, final Remedy remedy, final Throwable cause)
    {
        super(message, remedy, cause);
    }
}
