package dev.splitnet.bench;

import java.util.List;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class BenchOptionsTest
{
    @Test
    void shouldRunTheQuickSetByDefault()
    {
        final BenchOptions o = BenchOptions.parse();
        assertFalse(o.full);
        assertEquals(1, o.reps);
        assertFalse(o.jmh);
        assertEquals(List.of(64, 1500, 65000), o.sizesFor(Scenario.FORWARD));
        assertEquals(List.of(64, 65000), o.sizesFor(Scenario.READ));
        assertEquals(List.of(64), o.sizesFor(Scenario.RTT_SPIN));
    }

    @Test
    void shouldRunEverySizeWithRepeatsYieldingConsumersAndJmhWhenFull()
    {
        final BenchOptions o = BenchOptions.parse("--full");
        assertEquals(3, o.reps);
        assertEquals(2000, o.warmupMs);
        assertTrue(o.jmh);
        assertEquals(List.of(64, 1500, 9000, 65000), o.sizesFor(Scenario.RX));
        assertEquals(List.of(64, 1500, 9000, 65000), o.sizesFor(Scenario.FORWARD));
        final List<BenchMain.Case> cases = BenchMain.cases(o);
        assertTrue(cases.contains(new BenchMain.Case(Scenario.FORWARD, 64, "yield")));
        assertTrue(cases.contains(new BenchMain.Case(Scenario.RTT_BLOCK, 64, "block")));
    }

    @Test
    void shouldRejectAnUnknownScenarioSizeOrTransportNamingIt()
    {
        assertEquals("unknown scenario=fast; known: forward, read, rx, rx-read, rtt-spin, rtt-block",
            assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--scenario", "fast")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--size", "70000")).getMessage()
            .startsWith("size=70000 out of range"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--size", "big")).getMessage()
            .startsWith("unknown size=big"));
        assertEquals("unknown transport=zeromq; known: splitnet, splitnet-v2, splitnet-flip, splitnet-lazy, aeron, agrona, uds",
            assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--transport", "zeromq")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--warmup-ms", "10")).getMessage()
            .startsWith("--warmup-ms=10 must be"));
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--reps"));
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--fast"));
    }

    @Test
    void shouldLabelPlacementsByTheCacheLineRoundTrip()
    {
        assertEquals(Placement.NEAR, Placement.of(180));
        assertEquals(Placement.MID, Placement.of(270));
        assertEquals(Placement.FAR, Placement.of(470));
        assertEquals(Placement.CONTENDED, Placement.of(9_000_000));
    }
}
