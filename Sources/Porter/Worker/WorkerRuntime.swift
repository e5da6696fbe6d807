import Logging
import PorterPostgres

/// The parts of one running worker that its queue claimers share: where jobs come from
/// (`pool`, `statements`), who runs and ends them (`executor`, `completer`, `running`), what
/// keeps the worker honest (`fence`, `foreign`, `outage`), what it reports (`statistics`), and
/// its settings. `Worker.run()` builds it once.
///
/// A class, so that each job's task holds one reference to it rather than a copy of every
/// field, which cost a retain and a release per field and per job.
final class WorkerRuntime: Sendable {
    /// This worker's id, as porter.jobs.worker_id holds it.
    let workerID: String
    /// Its settings.
    let configuration: WorkerConfiguration
    /// The connections claims and jobs use.
    let pool: PQPool
    /// Whether claims are prepared statements, and the stop they ask for behind a pooler.
    let statements: StatementPreparation
    /// Runs one attempt of a claimed job.
    let executor: JobExecutor
    /// Writes attempts' ends and started events in batches.
    let completer: JobCompleter
    /// The attempts running now, for cancels, heartbeats and shutdown to reach.
    let running: RunningAttempts
    /// The attempts this worker knows it holds, from their claim's answer to their written end.
    let owned: OwnedAttempts
    /// Whether the worker has lost its database long enough to stop claiming.
    let fence: WorkerFence
    /// Jobs this worker hands back because another live worker can run them.
    let foreign: ForeignJobs
    /// Whether the database answers, shared so that an outage is logged once.
    let outage: DatabaseOutage
    /// The figures porter.stats() reads at every heartbeat.
    let statistics: WorkerStatistics
    /// Where the worker logs.
    let logger: Logger

    init(
        workerID: String, configuration: WorkerConfiguration, pool: PQPool, statements: StatementPreparation,
        executor: JobExecutor, completer: JobCompleter, running: RunningAttempts, owned: OwnedAttempts,
        fence: WorkerFence, foreign: ForeignJobs, outage: DatabaseOutage, statistics: WorkerStatistics, logger: Logger
    ) {
        self.workerID = workerID
        self.configuration = configuration
        self.pool = pool
        self.statements = statements
        self.executor = executor
        self.completer = completer
        self.running = running
        self.owned = owned
        self.fence = fence
        self.foreign = foreign
        self.outage = outage
        self.statistics = statistics
        self.logger = logger
    }
}
