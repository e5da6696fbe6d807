import Logging
import PorterPostgres

/// The parts of one running worker that its queue claimers share: where jobs come from
/// (`pool`, `statements`), who runs and ends them (`executor`, `completer`, `running`), what
/// keeps the worker honest (`fence`, `foreign`, `outage`), what it reports (`statistics`), and
/// its settings. `Worker.run()` builds it once.
struct WorkerRuntime: Sendable {
    /// This worker's id, as porter.jobs.worker_id holds it.
    var workerID: String
    /// Its settings.
    var configuration: WorkerConfiguration
    /// The connections claims and jobs use.
    var pool: PQPool
    /// Whether claims are prepared statements, and the stop they ask for behind a pooler.
    var statements: StatementPreparation
    /// Runs one attempt of a claimed job.
    var executor: JobExecutor
    /// Writes attempts' ends and started events in batches.
    var completer: JobCompleter
    /// The attempts running now, for cancels, heartbeats and shutdown to reach.
    var running: RunningAttempts
    /// The attempts this worker knows it holds, from their claim's answer to their written end.
    var owned: OwnedAttempts
    /// Whether the worker has lost its database long enough to stop claiming.
    var fence: WorkerFence
    /// Jobs this worker hands back because another live worker can run them.
    var foreign: ForeignJobs
    /// Whether the database answers, shared so that an outage is logged once.
    var outage: DatabaseOutage
    /// The figures porter.stats() reads at every heartbeat.
    var statistics: WorkerStatistics
    /// Where the worker logs.
    var logger: Logger
}
