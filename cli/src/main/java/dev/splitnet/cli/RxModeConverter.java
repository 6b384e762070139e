package dev.splitnet.cli;

import dev.splitnet.backend.RxMode;

/** Reads {@code copy}, {@code flip} or {@code lazy}. */
final class RxModeConverter extends NamedEnumConverter<RxMode>
{
    RxModeConverter()
    {
        super(RxMode.class, "a receive mode");
    }
}
