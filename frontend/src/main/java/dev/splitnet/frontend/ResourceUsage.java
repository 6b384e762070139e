package dev.splitnet.frontend;

/**
 * What one frontend connection holds at a moment ({@link NetFront#resourceUsage()}): TX ring ids,
 * header slots and TX frames taken by packets in flight, and RX buffers posted to the backend out
 * of as many as its buffers and RX ring allow. A quiet connection holds no TX resource and has every RX buffer posted.
 */
public record ResourceUsage(int ringIdsHeld, int headerSlotsHeld, int txFramesHeld, int rxBuffersPosted, int rxBuffersPostable)
{
    /** The TX side's share, as TxPath reports it. */
    record Tx(int ringIds, int headerSlots, int txFrames)
    {
    }

    /** True when nothing is held for TX and every RX buffer is posted. */
    public boolean quiet()
    {
        return ringIdsHeld == 0 && headerSlotsHeld == 0 && txFramesHeld == 0 && rxBuffersPosted == rxBuffersPostable;
    }
}
