package dev.splitnet.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The report's charts, headless PNG with XChart: throughput against size (log-log), latency percentiles. */
final class Charts
{
    private static final java.awt.Color[] COLORS = {
        new java.awt.Color(0xD6, 0x27, 0x28), new java.awt.Color(0x1F, 0x77, 0xB4), new java.awt.Color(0x2C, 0xA0, 0x2C),
        new java.awt.Color(0x94, 0x67, 0xBD), new java.awt.Color(0xFF, 0x7F, 0x0E), new java.awt.Color(0x8C, 0x56, 0x4B),
        new java.awt.Color(0x17, 0xBE, 0xCF), new java.awt.Color(0x7F, 0x7F, 0x7F) };

    /** One colour per transport (the palette wraps should transports outnumber it). */
    private static java.awt.Color colorOf(final Transport t)
    {
        return COLORS[t.ordinal() % COLORS.length];
    }

    private Charts()
    {
    }

    static void write(final Path out, final Report report) throws IOException
    {
        throughput(out.resolve("throughput"), report);
        latency(out.resolve("latency"), report);
    }

    private static void throughput(final Path file, final Report report) throws IOException
    {
        final XYChart chart = new XYChartBuilder().width(1000).height(620)
            .title("One-way throughput, payload untouched (forward): medians; solid = near, dotted = mid, dashed = far")
            .xAxisTitle("packet size (bytes, log)").yAxisTitle("messages per second (log)").build();
        chart.getStyler().setXAxisLogarithmic(true).setYAxisLogarithmic(true).setLegendPosition(
            org.knowm.xchart.style.Styler.LegendPosition.OutsideE).setChartBackgroundColor(java.awt.Color.WHITE);
        boolean any = false;
        for (final Transport t : Transport.values())
        {
            for (final Placement p : Placement.values())
            {
                final List<Double> x = new ArrayList<>();
                final List<Double> y = new ArrayList<>();
                for (final BenchMain.Case kase : report.cases())
                {
                    if (kase.scenario() == Scenario.FORWARD && kase.idle().equals("spin"))
                    {
                        final Report.Median m = report.median(kase, t, p);
                        if (m != null && m.rate() > 0)
                        {
                            x.add((double)kase.size());
                            y.add(m.rate());
                        }
                    }
                }
                if (!x.isEmpty())
                {
                    final XYSeries s = chart.addSeries(t.cliName() + " (" + p.label() + ")", x, y);
                    s.setMarker(SeriesMarkers.CIRCLE);
                    s.setLineColor(colorOf(t));
                    s.setMarkerColor(colorOf(t));
                    if (p != Placement.NEAR)
                    {
                        s.setLineStyle(new java.awt.BasicStroke(2f, java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_ROUND,
                            10f, p == Placement.MID ? new float[] { 2f, 3f } : new float[] { 6f, 4f }, 0f));
                    }
                    any = true;
                }
            }
        }
        if (any)
        {
            BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        }
    }

    private static void latency(final Path file, final Report report) throws IOException
    {
        final CategoryChart chart = new CategoryChartBuilder().width(1000).height(620)
            .title("64 B round trip: p50 / p99 / p99.9 (medians of runs)").xAxisTitle("transport, idle, placement")
            .yAxisTitle("microseconds (log)").build();
        chart.getStyler().setXAxisLabelRotation(30);
        // bars start at zero, which a log axis cannot show: markers only
        chart.getStyler().setDefaultSeriesRenderStyle(org.knowm.xchart.CategorySeries.CategorySeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(10);
        chart.getStyler().setYAxisLogarithmic(true).setChartBackgroundColor(java.awt.Color.WHITE);
        final List<String> names = new ArrayList<>();
        final List<Double> p50 = new ArrayList<>();
        final List<Double> p99 = new ArrayList<>();
        final List<Double> p999 = new ArrayList<>();
        for (final BenchMain.Case kase : report.cases())
        {
            if (kase.scenario().isThroughput())
            {
                continue;
            }
            for (final Placement p : Placement.values())
            {
                for (final Transport t : Transport.values())
                {
                    final Report.Median m = report.median(kase, t, p);
                    if (m != null && m.p50() > 0)
                    {
                        names.add(t.cliName() + " " + kase.idle() + " " + p.label());
                        p50.add(m.p50() / 1000);
                        p99.add(m.p99() / 1000);
                        p999.add(m.p999() / 1000);
                    }
                }
            }
        }
        if (!names.isEmpty())
        {
            chart.addSeries("p50", names, p50);
            chart.addSeries("p99", names, p99);
            chart.addSeries("p99.9", names, p999);
            BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        }
    }
}
