package dev.splitnet.api;

/** Receives the fate of each transmitted packet, exactly once per packet. */
@FunctionalInterface
public interface TxCompletionHandler
{
    /** Called on the polling thread with the correlation id given at send time. */
    void onTxComplete(long correlationId, PacketStatus status);
}
