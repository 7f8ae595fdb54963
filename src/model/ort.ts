/**
 * onnxruntime-node, imported through here so that its telemetry is off before any session exists.
 *
 * The Linux build of onnxruntime (1.30) embeds Microsoft's 1DS telemetry client. When the first
 * session creates the runtime's environment, that client reads /etc/machine-id, /etc/os-release
 * and /proc/self/cmdline, opens a SQLite store under ~/.cache/Microsoft/DeveloperTools and queues
 * uploads to mobile.events.data.microsoft.com. It finds the application name by running the
 * std::regex `(.*)[ ]*.*[\n]*` over the whole command line, and libstdc++'s regex executor
 * recurses once per character: a command line of about 29 KB overflows the 8 MB main-thread stack
 * and the process dies with SIGSEGV (issue 11, item 8). ORT_DISABLE_TELEMETRY=1 (read when the
 * environment is created, so setting it here, before any session, is in time) keeps the client
 * from starting at all. It is forced, not defaulted: an inherited ORT_DISABLE_TELEMETRY=0 would
 * bring the crash back, and an edge daemon has no business phoning home.
 */
process.env.ORT_DISABLE_TELEMETRY = '1';

export * from 'onnxruntime-node';
