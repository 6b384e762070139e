package dev.splitnet.cli;

import dev.splitnet.backend.RxOrder;
import java.util.Locale;
import picocli.CommandLine;

/** Reads {@code posted} or {@code shuffle}. */
final class RxOrderConverter implements CommandLine.ITypeConverter<RxOrder>
{
    @Override
    public RxOrder convert(final String value)
    {
        try
        {
            return RxOrder.valueOf(value.toUpperCase(Locale.ROOT));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a receive order; use posted or shuffle");
        }
    }
}
