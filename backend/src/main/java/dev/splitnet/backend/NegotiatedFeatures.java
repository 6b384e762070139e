package dev.splitnet.backend;

import dev.splitnet.api.Features;

/**
 * The features one connection agreed on at its handshake, read once into booleans: the TX path
 * asks them per request, and a bit test on a long named by its purpose reads worse than a field.
 */
record NegotiatedFeatures(boolean headerSlots, boolean permanentGrants, boolean frameSpans, boolean rxSpans)
{
    static NegotiatedFeatures of(final long features)
    {
        return new NegotiatedFeatures((features & Features.HEADER_SLOTS) != 0, (features & Features.PERMANENT_GRANTS) != 0,
            (features & Features.FRAME_SPANS) != 0, (features & Features.RX_SPANS) != 0);
    }
}
