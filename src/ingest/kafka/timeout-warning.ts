// kafkajs 2.2.4 arms a timer with a negative delay each time it checks an idle request queue
// (requestQueue scheduleCheckPendingRequests, kafkajs issue #1751). The timer fires at once, as
// meant, but Bun 1.4.5 and Deno print a TimeoutNegativeWarning with a stack on stderr for it.
// No kafkajs import here: the test preload installs it too.

let timeoutWarningDropped = false;

/**
 * Both runtimes print warnings from their default 'warning' listener (Bun emits this one natively,
 * without process.emitWarning), so those listeners are wrapped: this one warning is dropped, any
 * other is printed as before. By name only: in a bundled (compiled) executable the stack need not
 * name kafkajs.
 */
export function dropTimeoutNegativeWarning(): void {
  if (timeoutWarningDropped) return;
  timeoutWarningDropped = true;
  const printers = process.listeners("warning");
  process.removeAllListeners("warning");
  process.on("warning", (warning: Error) => {
    if (warning?.name === "TimeoutNegativeWarning") return;
    for (const print of printers) print.call(process, warning);
  });
}
