package dev.splitnet.it.container;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Marks a test class that runs splitnet in Docker containers. Without a Docker daemon the class is
 * skipped, and the test run says so in one line (once, however many classes); when the run
 * requires Docker (.ci/run: -Dsplitnet.requireDocker=true) a missing daemon fails the class.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("container")
@ExtendWith(ContainerTest.DockerCondition.class)
@interface ContainerTest
{
    /** Enables the class when Docker answers; skips it (one line) or fails it (when required) otherwise. */
    final class DockerCondition implements ExecutionCondition
    {
        private static final AtomicBoolean ANNOUNCED = new AtomicBoolean();

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(final ExtensionContext context)
        {
            final DockerDaemon.Probe probe = DockerDaemon.probe();
            if (probe.available())
            {
                if (ANNOUNCED.compareAndSet(false, true))
                {
                    System.out.println("[container-it] " + probe.reason() + " (docker-java api.version="
                        + System.getProperty("api.version", "default") + ")");
                }
                return ConditionEvaluationResult.enabled(probe.reason());
            }
            if (DockerDaemon.required())
            {
                throw new IllegalStateException("container tests are required (splitnet.requireDocker / SPLITNET_REQUIRE_DOCKER) but "
                    + probe.reason() + "; " + DockerDaemon.HOW_TO_ENABLE);
            }
            final String line = "container tests skipped: " + probe.reason() + "; " + DockerDaemon.HOW_TO_ENABLE;
            if (ANNOUNCED.compareAndSet(false, true))
            {
                System.out.println(line);
            }
            return ConditionEvaluationResult.disabled(line);
        }
    }
}
