package dev.splitnet.bench;

import java.util.Locale;

/** The transports measured side by side; {@link #SPLITNET} is the one the others are compared with. */
public enum Transport
{
    SPLITNET("splitnet"),
    AERON("aeron"),
    AGRONA("agrona"),
    UDS("uds");

    private final String cliName;

    Transport(final String cliName)
    {
        this.cliName = cliName;
    }

    public String cliName()
    {
        return cliName;
    }

    /** The transport for a command-line name; throws naming the known ones. */
    public static Transport parse(final String name)
    {
        for (final Transport t : values())
        {
            if (t.cliName.equals(name.toLowerCase(Locale.ROOT)))
            {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown transport=" + name + "; known: splitnet, aeron, agrona, uds");
    }
}
