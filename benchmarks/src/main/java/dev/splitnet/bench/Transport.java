package dev.splitnet.bench;

import java.util.Locale;

/** The transports measured side by side; {@link #SPLITNET} is the one the others are compared with. */
public enum Transport
{
    SPLITNET("splitnet"),
    /** splitnet with the ring-v2 feature (docs/PROTOCOL.md 3.5), everything else as {@link #SPLITNET}. */
    SPLITNET_V2("splitnet-v2"),
    /**
     * splitnet with lazy-rx and a backend in rx mode flip lending every claim (copybreak 0; docs/PROTOCOL.md
     * 6.5): in the receive scenarios the backend builds each packet in its own frames and lends them;
     * elsewhere as {@link #SPLITNET}.
     */
    SPLITNET_FLIP("splitnet-flip"),
    /** As {@link #SPLITNET_FLIP} with the library's defaults: rx mode lazy, copybreak 1024 (shorter packets copied). */
    SPLITNET_LAZY("splitnet-lazy"),
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
        throw new IllegalArgumentException("unknown transport=" + name + "; known: splitnet, splitnet-v2, splitnet-flip, splitnet-lazy, aeron, agrona, uds");
    }
}
