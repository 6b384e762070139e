package dev.splitnet.cli;

import dev.splitnet.backend.RxOrder;

/** Reads {@code posted} or {@code shuffle}. */
final class RxOrderConverter extends NamedEnumConverter<RxOrder>
{
    RxOrderConverter()
    {
        super(RxOrder.class, "a receive order");
    }
}
