package dev.splitnet.cli;

import dev.splitnet.mmap.Device;
import dev.splitnet.mmap.DeviceGeometry;
import dev.splitnet.api.XenbusState;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.RingFormat;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code splitnet layout FILE}: every region's offset and size, and the rings' format, as JSON. */
@Command(name = "layout", mixinStandardHelpOptions = true,
    description = "Prints the offset and size of every region of a device file, and its rings' format (xen-netif or ring-v2) "
        + "and entries, as JSON (--default: of a default device).")
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
            final DeviceLayout layout = DeviceLayout.of(DeviceGeometry.of(1, 128, 1024, 256));
            System.out.println(withRings(layout.toJson(), layout, RingFormat.XEN, ""));
            return 0;
        }
        if (file == null)
        {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "give a device FILE or --default");
        }
        try (Device device = Device.attach(file.toFile(), true))
        {
            // where the memory lives: a sealed memfd (the file is its claim) or the file itself
            final String json = device.layout().toJson();
            final String withMemory = json.substring(0, json.length() - 1) + ",\"memory\":\"" + (device.isSealedMemory() ? "sealed" : "file") + "\"}";
            // the ring format is the connection's: what the backend recorded it negotiated
            final boolean connected = device.backendState() == XenbusState.CONNECTED;
            System.out.println(withRings(withMemory, device.layout(), RingFormat.of(device.featuresNegotiated()),
                connected ? "" : "as last negotiated; the backend is " + device.backendState()));
        }
        return 0;
    }

    /** Adds {@code "rings":{"format":..., "tx_entries":..., "rx_entries":...}} to a layout's JSON object. */
    private static String withRings(final String json, final DeviceLayout layout, final RingFormat format, final String note)
    {
        return json.substring(0, json.length() - 1) + ",\"rings\":{\"format\":\"" + format.label() + "\",\"tx_entries\":"
            + format.entries(layout.ringBytes(), true) + ",\"rx_entries\":" + format.entries(layout.ringBytes(), false)
            + (note.isEmpty() ? "" : ",\"note\":\"" + note + "\"") + "}}";
    }
}
