package io.apigw.authorizer.metrics;

import java.time.Duration;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * What operators watch on {@code /q/metrics}: requests by type, outcome and code; end-to-end and per-step latency
 * histograms; retries; dead letters; the token controller's wait. In-flight work is a gauge registered by
 * {@code Drain}.
 */
@ApplicationScoped
public class AuthorizerMetrics {

    private final MeterRegistry registry;

    public AuthorizerMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public void outcome(String type, String outcome, String code, Duration took) {
        Counter.builder("authorizer.requests").description("Requests answered, by type, outcome and failure code")
                .tag("type", type).tag("outcome", outcome).tag("code", code).register(registry).increment();
        Timer.builder("authorizer.request.duration").description("Record received to result published")
                .tag("type", type).tag("outcome", outcome).publishPercentileHistogram()
                .register(registry).record(took);
    }

    /** Times one step of a request ({@code directory}, {@code grant}, {@code credential}, {@code publish}). */
    public <T> T step(String step, Supplier<T> work) {
        Timer.Sample sample = Timer.start(registry);
        try {
            return work.get();
        } finally {
            sample.stop(Timer.builder("authorizer.step.duration").description("Latency of one step of a request")
                    .tag("step", step).publishPercentileHistogram().register(registry));
        }
    }

    public void retry(String code) {
        Counter.builder("authorizer.retries").description("Attempts repeated after a transient failure")
                .tag("code", code).register(registry).increment();
    }

    public void deadLetter() {
        Counter.builder("authorizer.dead.letters").description("Records forwarded to the dead-letter topic")
                .register(registry).increment();
    }

    public void tokenWait(Duration took, boolean issued) {
        Timer.builder("authorizer.token.wait").description("Waiting for the token controller to fill the token Secret")
                .tag("issued", Boolean.toString(issued)).publishPercentileHistogram().register(registry).record(took);
    }

    public void step(String step, Runnable work) {
        step(step, () -> {
            work.run();
            return null;
        });
    }

}
