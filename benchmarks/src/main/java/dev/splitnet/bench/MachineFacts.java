package dev.splitnet.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/** What the figures were measured on: CPU model, cores, JVM, kernel, load. */
record MachineFacts(String cpu, int cores, String jvm, String os, String loadBefore, String date)
{
    static MachineFacts collect()
    {
        String cpu = "unknown CPU";
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/cpuinfo")))
            {
                if (line.startsWith("model name"))
                {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        }
        catch (final IOException ignore)
        {
            // not Linux: the model stays unknown
        }
        return new MachineFacts(cpu, Runtime.getRuntime().availableProcessors(),
            System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"),
            System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
            loadAverage(), ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    }

    static String loadAverage()
    {
        try
        {
            final String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        }
        catch (final IOException ex)
        {
            return "unknown";
        }
    }

    String describe()
    {
        return cpu + ", " + cores + " cores (vCPUs), " + jvm + ", " + os;
    }
}
