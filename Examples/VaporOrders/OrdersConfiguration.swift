import Porter

/// How the orders service runs.
struct OrdersConfiguration: Sendable {
    /// The database, as a URL or libpq conninfo string; empty for libpq's `PG*` defaults.
    var databaseURL: String
    /// Whether a Porter worker runs inside the app's process, started and drained with it.
    /// Off when the jobs run in a separate `porter worker`.
    var inProcessWorker = true
    /// The in-process worker's settings (Porter's defaults).
    var worker = WorkerConfiguration()
    /// How long sending a confirmation takes: the job's stand-in for real work.
    var sendDuration: Duration = .milliseconds(100)
}
