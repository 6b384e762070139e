package dev.splitnet.cli;

import dev.splitnet.mmap.Device;
import dev.splitnet.mmap.DeviceGeometry;
import dev.splitnet.mmap.DeviceLayout;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code splitnet layout FILE}: every region's offset and size as JSON. */
@Command(name = "layout", mixinStandardHelpOptions = true,
    description = "Prints the offset and size of every region of a device file as JSON (--default: of a default device).")
final class LayoutCommand implements Callable<Integer>
{
    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", description = "A device file (NAME.dev).")
    Path file;

    @Option(names = "--default", description = "Print the layout a frontend with default settings creates.")
    boolean defaults;

    @Override
    public Integer call()
    {
        if (defaults)
        {
            System.out.println(DeviceLayout.of(DeviceGeometry.of(1, 128, 1024, 256)).toJson());
            return 0;
        }
        if (file == null)
        {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "give a device FILE or --default");
        }
        try (Device device = Device.attach(file.toFile(), true))
        {
            final String layout = device.layout().toJson();
            // where the memory lives: a sealed memfd (the file is its claim) or the file itself
            System.out.println(layout.substring(0, layout.length() - 1) + ",\"memory\":\"" + (device.isSealedMemory() ? "sealed" : "file") + "\"}");
        }
        return 0;
    }
}
