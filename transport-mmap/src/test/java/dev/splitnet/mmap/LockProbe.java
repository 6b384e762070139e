package dev.splitnet.mmap;

import java.nio.file.Paths;

/** Run in a JVM of its own by {@link DeviceFileTest}: prints whether each file named is in use, as another process sees it. */
public final class LockProbe
{
    private LockProbe()
    {
    }

    public static void main(final String[] args)
    {
        for (final String file : args)
        {
            System.out.println(Device.isInUse(Paths.get(file)));
        }
    }
}
