package dev.splitnet.cli;

import dev.splitnet.backend.RxMode;
import java.util.Locale;
import picocli.CommandLine;

/** Reads {@code copy}, {@code flip} or {@code lazy}. */
final class RxModeConverter implements CommandLine.ITypeConverter<RxMode>
{
    @Override
    public RxMode convert(final String value)
    {
        try
        {
            return RxMode.valueOf(value.toUpperCase(Locale.ROOT));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a receive mode; use copy, flip or lazy");
        }
    }
}
