package dev.splitnet.api;

/** Receives packets delivered by the backend into a frontend's receive buffers. */
@FunctionalInterface
public interface RxHandler
{
    /** Called on the polling thread; the packet view is only valid during the call. */
    void onPacket(ReceivedPacket packet);
}
