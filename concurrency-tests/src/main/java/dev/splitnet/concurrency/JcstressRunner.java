package dev.splitnet.concurrency;

import org.openjdk.jcstress.JCStress;
import org.openjdk.jcstress.Options;
import org.openjdk.jcstress.infra.Status;
import org.openjdk.jcstress.infra.collectors.DiskReadCollector;
import org.openjdk.jcstress.infra.collectors.InProcessCollector;
import org.openjdk.jcstress.infra.collectors.TestResult;
import org.openjdk.jcstress.infra.grading.TestGrading;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Runs jcstress with the given options and exits 1 when any test failed (an outcome marked
 * FORBIDDEN was seen), ended in error (a fork that crashed, timed out or threw), or did not run at
 * all. jcstress 0.16 reports all of these only in its report and exits 0, which a build cannot see.
 */
public final class JcstressRunner
{
    private JcstressRunner()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final Options options = new Options(args);
        if (!options.parse())
        {
            System.exit(1);
        }
        final JCStress jcstress = new JCStress(options);
        final SortedSet<String> expected = jcstress.getTests();
        jcstress.run();

        final List<String> problems = new ArrayList<>();
        final SortedSet<String> ran = new TreeSet<>();
        if (expected.isEmpty())
        {
            problems.add("no test matched");
        }
        if (!Files.exists(Path.of(options.getResultFile())))
        {
            problems.add("jcstress wrote no result file " + options.getResultFile());
        }
        else
        {
            final InProcessCollector collector = new InProcessCollector();
            final DiskReadCollector reader = new DiskReadCollector(options.getResultFile(), collector);
            reader.dump();
            reader.close();
            for (final TestResult result : collector.getTestResults())
            {
                ran.add(result.getName());
                final TestGrading grading = result.grading();
                if (result.status() != Status.NORMAL)
                {
                    problems.add(result.getName() + ": " + result.status() + " " + result.getMessages());
                }
                else if (!grading.isPassed)
                {
                    problems.add(result.getName() + ": " + grading.failureMessages);
                }
            }
        }
        for (final String test : expected)
        {
            if (!ran.contains(test))
            {
                problems.add(test + ": no result (no JVM configuration or scheduling class ran it)");
            }
        }

        if (problems.isEmpty())
        {
            System.out.println("jcstress: " + ran.size() + " tests passed");
            return;
        }
        System.out.println("jcstress: " + problems.size() + " problems:");
        problems.forEach(problem -> System.out.println("  " + problem));
        System.exit(1);
    }
}
