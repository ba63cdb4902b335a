package io.apigw.authorizer.testing;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.jboss.logmanager.ExtLogRecord;

/** Captures every log line (message and stack trace) of the application, to search them for secrets. */
public final class LogCapture extends Handler {

    private static final LogCapture INSTANCE = new LogCapture();
    private final List<String> lines = new CopyOnWriteArrayList<>();

    public static LogCapture install() {
        Logger root = Logger.getLogger("");
        if (!List.of(root.getHandlers()).contains(INSTANCE)) {
            root.addHandler(INSTANCE);
        }
        return INSTANCE;
    }

    public List<String> lines() {
        return List.copyOf(lines);
    }

    @Override
    public void publish(LogRecord record) {
        String message = record instanceof ExtLogRecord ext ? ext.getFormattedMessage() : record.getMessage();
        StringBuilder line = new StringBuilder(record.getLoggerName() + " " + message);
        if (record.getThrown() != null) {
            StringWriter trace = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(trace));
            line.append('\n').append(trace);
        }
        lines.add(line.toString());
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
}
