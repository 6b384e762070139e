package dev.splitnet.api;

/** Connection states each side records in the control area, with the values of Xen's {@code io/xenbus.h}. */
public enum XenbusState
{
    UNKNOWN(0),
    INITIALISING(1),
    INIT_WAIT(2),
    INITIALISED(3),
    CONNECTED(4),
    CLOSING(5),
    CLOSED(6);

    private static final XenbusState[] BY_CODE = values();

    private final int code;

    XenbusState(final int code)
    {
        this.code = code;
    }

    /** The {@code XenbusState} value stored in shared memory. */
    public int code()
    {
        return code;
    }

    /** The state for a stored code; {@link #UNKNOWN} for anything out of range. */
    public static XenbusState fromCode(final int code)
    {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : UNKNOWN;
    }
}
