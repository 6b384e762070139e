package dev.splitnet.api;

/**
 * The backend's consumer of transmitted packets, given the backend itself so that it can forward a
 * packet to other frontends ({@link Backend#deliver}) without holding a reference of its own: a
 * switch, a reflector. Runs on the backend's duty-cycle thread, like {@link PacketHandler}.
 */
@FunctionalInterface
public interface ForwardingHandler
{
    /**
     * Decides the packet's fate; the backend then releases its grants and answers the frontend.
     *
     * @param backend the backend that took the packet off a TX ring (deliver to its frontends here).
     * @param packet  valid only during this call, unless {@linkplain Packet#hold() held}.
     * @return the packet's status; ignored when the packet was held.
     */
    PacketStatus onPacket(Backend backend, Packet packet);

    /**
     * Called once per duty cycle on the backend's thread, after the TX rings were served and
     * before responses are published: the place to complete held packets whose time has come.
     *
     * @return work done (0 lets the backend idle).
     */
    default int onDutyCycle(final Backend backend)
    {
        return 0;
    }
}
