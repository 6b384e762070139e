package dev.splitnet.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/** Runs the hot-path microbenchmarks with JMH's gc profiler and returns a markdown table of the results. */
final class JmhRunner
{
    private JmhRunner()
    {
    }

    static List<String> run(final Path out)
    {
        final Options options = new OptionsBuilder()
            .include("dev\\.splitnet\\.(bench\\.jmh|backend)\\..*Benchmark")
            .addProfiler(GCProfiler.class)
            .forks(1)
            .warmupIterations(2).warmupTime(TimeValue.seconds(1))
            .measurementIterations(3).measurementTime(TimeValue.seconds(1))
            .build();
        final Collection<RunResult> results;
        try
        {
            results = new Runner(options).run();
        }
        catch (final RunnerException ex)
        {
            throw new IllegalStateException("JMH failed: " + ex.getMessage(), ex);
        }
        final List<String> lines = new ArrayList<>();
        lines.add("| benchmark | params | ns/op | B/op (gc.alloc.rate.norm) |");
        lines.add("|---|---|---:|---:|");
        for (final RunResult r : results)
        {
            final Result<?> primary = r.getPrimaryResult();
            final Result<?> norm = r.getSecondaryResults().get("gc.alloc.rate.norm");
            final String name = r.getParams().getBenchmark();
            final StringBuilder params = new StringBuilder();
            for (final String key : r.getParams().getParamsKeys())
            {
                params.append(key).append('=').append(r.getParams().getParam(key)).append(' ');
            }
            lines.add(String.format(Locale.ROOT, "| %s | %s | %.1f ± %.1f | %s |", name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1),
                params.toString().trim(), primary.getScore(), primary.getScoreError(),
                norm == null ? "-" : String.format(Locale.ROOT, "%.3f", norm.getScore())));
        }
        return lines;
    }
}
