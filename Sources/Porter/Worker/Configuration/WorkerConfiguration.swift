import Foundation

/// Everything a worker process can be configured with. The JSON config file (`--config` or
/// `PORTER_CONFIG`) uses Frappe's keys where Frappe has them:
///
/// ```json
/// {
///   "workers": {"myqueue": {"timeout": 5000, "background_workers": 4}, "default": {"background_workers": 8}},
///   "sql_schemas": ["app"], "sql_functions": ["reports.refresh_totals"], "sql_owners": ["app_owner"]
/// }
/// ```
public struct WorkerConfiguration: Sendable, Hashable {
    /// Every queue's settings: the built-in `short`, `default` and `long`, changed or joined by
    /// the config's `workers` entries.
    public var queues: [String: QueueConfiguration]
    /// Schemas whose functions `sql:schema.function` jobs may call. Key `sql_schemas`. Default: none.
    ///
    /// Only the functions of a trusted owner run (`sqlOwners`), so a role that may create
    /// functions in such a schema cannot run its own code as this worker.
    /// To allow only some functions, list them in `sqlFunctions` and leave their schema out.
    public var sqlSchemas: Set<String>
    /// Single functions `sql:` jobs may call, as `schema.function`, besides those of
    /// `sqlSchemas`. Key `sql_functions`. Default: none.
    public var sqlFunctions: Set<String> = []
    /// Roles whose functions `sql:` jobs may run, besides the two always trusted: the worker's
    /// own login role (`session_user`) and the owner of schema `porter`. A function owned by
    /// any other role is refused when its job runs, without running, and the job fails. Names
    /// are compared byte for byte, as PostgreSQL compares role names (`"App"` is not `app`).
    /// Key `sql_owners`. Default: none.
    public var sqlOwners: Set<String> = []
    /// How often claimers poll when no notification wakes them. Key `poll_interval`. Default: 1 s;
    /// 0.01 s to 1 day.
    public var pollInterval: Duration
    /// Poll only and never LISTEN, for PgBouncer's transaction pooling. Key `poll_only`. Default: false.
    public var pollOnly: Bool
    /// How often a worker records that it is alive. Key `heartbeat_interval`. Default: 5 s;
    /// 0.1 s to 1 hour, and at most half of `rescue_after`.
    public var heartbeatInterval: Duration
    /// A worker whose last heartbeat is this old is dead, and its started jobs go back in the
    /// queue: the fallback for a host that vanished without closing its connections, and for
    /// `poll_only` workers. A worker process that dies is found sooner, from its session ending
    /// (see `sessionGrace`). A worker that has committed no heartbeat for three quarters of it
    /// stops claiming and stops its running jobs itself (`fenceAfter`). Key `rescue_after`.
    /// Default: 20 s; 0.5 s to 1 day.
    public var rescueAfter: Duration
    /// How often the rescuer and pruner run. Key `maintenance_interval`. Default: 5 s; 0.1 s to
    /// 1 day.
    public var maintenanceInterval: Duration
    /// Rescues after which a job fails as poison. Key `max_orphaned`. Default: 3; 1 to 1,000.
    public var maxOrphaned: Int
    /// On SIGTERM/SIGINT, how long in-flight jobs may finish before they are cancelled and
    /// put back in the queue. Key `shutdown_grace`. Default: 30 s; 0 to 1 day.
    public var shutdownGrace: Duration
    /// How long a timed-out or cancelled Swift handler may take to stop before its slot is
    /// freed anyway. Key `cancel_grace`. Default: 5 s; 0 to 1 hour.
    public var cancelGrace: Duration
    /// Finished jobs are deleted after this long. Key `finished_retention`. Default: 1 day; 0 to
    /// 3,650 days.
    public var finishedRetention: Duration
    /// Failed and canceled jobs are deleted after this long. Key `failed_retention`. Default:
    /// 7 days; 0 to 3,650 days.
    public var failedRetention: Duration
    /// Backoff between attempts. Keys `retry_backoff_base` (0 to 1 day) and `retry_backoff_max`
    /// (0 to 30 days).
    public var retryPolicy: RetryPolicy
    /// Publish job state events (`started`, `finished`, `failed`, ...) for the jobs this worker
    /// claims and completes. Off, its claims and completions no longer queue behind each
    /// other's commit for NOTIFY's lock, at the price of those events (progress and
    /// `publish_realtime` are unaffected). Key `job_events`. Default: true.
    public var jobEvents = true
    /// A worker's maintenance vacuums `porter.jobs` once it holds this many dead row versions.
    /// Every claim and completion leaves one behind, and a claim walks past the claim index's
    /// dead entries until a vacuum removes them, so a busy queue slows down between vacuums;
    /// autovacuum comes at most once a minute. 0 leaves it to autovacuum. Key
    /// `vacuum_threshold`. Default: 50,000; 0 to 1,000,000,000.
    public var vacuumThreshold = 50_000
    /// How the span of each attempt relates to the span that enqueued the job, when a tracer
    /// is bootstrapped: `link` (OpenTelemetry's messaging conventions: the attempt starts a
    /// trace of its own, linked to the enqueue's) or `child` (the attempt is the enqueue
    /// span's child, in its trace). Key `trace_parenting`, `"link"` or `"child"`. Default: `link`.
    public var traceParenting: TraceParenting = .link

    /// How long a worker's session lock must stay free before a rescuer declares the worker
    /// dead: the time a live worker whose session ended (a server restart, a failover) has to
    /// reconnect and take a new lock. A worker process that dies is found within this plus
    /// about two probes (`sessionProbeInterval`). Not a config key. Default: 2 s.
    var sessionGrace: Duration = .seconds(2)

    /// How often each worker probes the others' session locks and rescues the jobs of the
    /// dead ones. Not a config key. Default: 0.5 s.
    var sessionProbeInterval: Duration = .milliseconds(500)

    /// A worker that has committed no heartbeat for this long fences itself off: it stops
    /// claiming and stops its running jobs, which go back in the queue, before a rescuer (which
    /// waits `rescue_after`) can give them to another worker. Three quarters of `rescue_after`;
    /// the last quarter (5 s by default) is the margin in which its handlers stop.
    public var fenceAfter: Duration { rescueAfter * 3 / 4 }

    /// Whether claims and completions run as prepared statements, parsed and planned once per
    /// connection. Off in poll-only mode, which is for PgBouncer's transaction pooling, where
    /// a prepared statement may not exist on the next transaction's session.
    var preparedStatements: Bool { !pollOnly }

    /// A configuration with each setting given, and the rest at the defaults each property
    /// documents; `WorkerConfiguration.load(path:)` reads one from a config file.
    public init(
        queues: [String: QueueConfiguration] = QueueConfiguration.builtIn,
        sqlSchemas: Set<String> = [],
        pollInterval: Duration = .seconds(1),
        pollOnly: Bool = false,
        heartbeatInterval: Duration = .seconds(5),
        rescueAfter: Duration = .seconds(20),
        maintenanceInterval: Duration = .seconds(5),
        maxOrphaned: Int = 3,
        shutdownGrace: Duration = .seconds(30),
        cancelGrace: Duration = WorkerConfiguration.defaultCancelGrace,
        finishedRetention: Duration = .seconds(86_400),
        failedRetention: Duration = .seconds(7 * 86_400),
        retryPolicy: RetryPolicy = RetryPolicy()
    ) {
        self.queues = queues
        self.sqlSchemas = sqlSchemas
        self.pollInterval = pollInterval
        self.pollOnly = pollOnly
        self.heartbeatInterval = heartbeatInterval
        self.rescueAfter = rescueAfter
        self.maintenanceInterval = maintenanceInterval
        self.maxOrphaned = maxOrphaned
        self.shutdownGrace = shutdownGrace
        self.cancelGrace = cancelGrace
        self.finishedRetention = finishedRetention
        self.failedRetention = failedRetention
        self.retryPolicy = retryPolicy
    }

    /// `cancelGrace`'s default, which `now` runs use too: 5 seconds.
    public static let defaultCancelGrace: Duration = .seconds(5)

    /// A queue's settings; a queue not configured gets the `default` queue's.
    public func queue(_ name: String) -> QueueConfiguration {
        QueueConfiguration.settings(of: name, in: queues)
    }

    /// Reads a config file.
    public static func load(path: String) throws -> WorkerConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: nil, message: "cannot read the config file \(path); check the path given to --config or PORTER_CONFIG")
        }
        return try parse(data)
    }

    /// Parses config JSON, refusing unknown keys and bad values with an error that names the
    /// key and says the fix.
    public static func parse(_ data: Data) throws -> WorkerConfiguration {
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ConfigurationError(key: nil, message: "the config must be a JSON object such as {\"workers\": {}}")
            }
            root = object
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(key: nil, message: "the config is not valid JSON: \(error.localizedDescription)")
        }
        var configuration = WorkerConfiguration()
        for (key, value) in root {
            switch key {
            case "workers":
                guard let workers = value as? [String: Any] else {
                    throw ConfigurationError(key: key, message: "must be an object of queues, e.g. {\"myqueue\": {\"timeout\": 5000}}")
                }
                for (queue, settings) in workers {
                    guard !queue.trimmingCharacters(in: .whitespaces).isEmpty else {
                        throw ConfigurationError(key: "workers", message: "a queue name must not be empty")
                    }
                    configuration.queues[queue] = try parseQueue(
                        settings, name: queue, base: configuration.queues[queue] ?? QueueConfiguration())
                }
            case "sql_schemas":
                guard let schemas = value as? [String], schemas.allSatisfy({ !$0.isEmpty }) else {
                    throw ConfigurationError(key: key, message: "must be a list of schema names, e.g. [\"app\"]")
                }
                if let long = schemas.first(where: { $0.utf8.count > SQLJobMethod.maxIdentifierBytes }) {
                    throw ConfigurationError(
                        key: key,
                        message: "\"\(long)\" is longer than \(SQLJobMethod.maxIdentifierBytes) bytes, which PostgreSQL would cut to another name")
                }
                configuration.sqlSchemas = Set(schemas)
            case "sql_functions":
                guard let functions = value as? [String] else {
                    throw ConfigurationError(key: key, message: "must be a list of functions as schema.function, e.g. [\"app.refresh_totals\"]")
                }
                for function in functions {
                    guard let (schema, name) = SQLJobMethod.split(function) else {
                        throw ConfigurationError(
                            key: key, message: "\"\(function)\" is not of the form schema.function; use e.g. [\"app.refresh_totals\"]")
                    }
                    guard schema.utf8.count <= SQLJobMethod.maxIdentifierBytes, name.utf8.count <= SQLJobMethod.maxIdentifierBytes else {
                        throw ConfigurationError(
                            key: key,
                            message: "\"\(function)\" names an identifier longer than \(SQLJobMethod.maxIdentifierBytes) bytes, which PostgreSQL would cut to another name")
                    }
                }
                configuration.sqlFunctions = Set(functions)
            case "sql_owners":
                guard let entries = value as? [Any] else {
                    throw ConfigurationError(
                        key: key,
                        message: "must be a list of the role names whose functions sql: jobs may run, e.g. [\"app_owner\"], got \(ConfigurationValue.describe(value))")
                }
                var owners: Set<String> = []
                for entry in entries {
                    // PostgreSQL's names hold no NUL, and libpq would end the name sent at one.
                    guard let owner = entry as? String, !owner.isEmpty, !owner.utf8.contains(0) else {
                        throw ConfigurationError(
                            key: key, message: "every entry must be a role name, e.g. [\"app_owner\"], got \(ConfigurationValue.describe(entry))")
                    }
                    guard owner.utf8.count <= SQLJobMethod.maxIdentifierBytes else {
                        throw ConfigurationError(
                            key: key,
                            message: "\"\(owner)\" is longer than \(SQLJobMethod.maxIdentifierBytes) bytes, which no role name can be")
                    }
                    owners.insert(owner)
                }
                configuration.sqlOwners = owners
            case "poll_interval": configuration.pollInterval = try ConfigurationValue.seconds(value, key: key, in: 0.01...day)
            case "poll_only":
                guard isJSONBoolean(value), let flag = value as? Bool else {
                    throw ConfigurationError(key: key, message: "must be true or false, got \(ConfigurationValue.describe(value))")
                }
                configuration.pollOnly = flag
            case "job_events":
                guard isJSONBoolean(value), let flag = value as? Bool else {
                    throw ConfigurationError(key: key, message: "must be true or false, got \(ConfigurationValue.describe(value))")
                }
                configuration.jobEvents = flag
            case "trace_parenting":
                guard let word = value as? String, let parenting = TraceParenting(rawValue: word) else {
                    throw ConfigurationError(
                        key: key, message: "must be \"link\" or \"child\", got \(ConfigurationValue.describe(value))")
                }
                configuration.traceParenting = parenting
            case "heartbeat_interval": configuration.heartbeatInterval = try ConfigurationValue.seconds(value, key: key, in: 0.1...3600)
            case "rescue_after": configuration.rescueAfter = try ConfigurationValue.seconds(value, key: key, in: 0.5...day)
            case "maintenance_interval": configuration.maintenanceInterval = try ConfigurationValue.seconds(value, key: key, in: 0.1...day)
            case "max_orphaned": configuration.maxOrphaned = try ConfigurationValue.integer(value, key: key, in: 1...1000)
            case "vacuum_threshold": configuration.vacuumThreshold = try ConfigurationValue.integer(value, key: key, in: 0...1_000_000_000)
            case "shutdown_grace": configuration.shutdownGrace = try ConfigurationValue.seconds(value, key: key, in: 0...day)
            case "cancel_grace": configuration.cancelGrace = try ConfigurationValue.seconds(value, key: key, in: 0...3600)
            case "finished_retention": configuration.finishedRetention = try ConfigurationValue.seconds(value, key: key, in: 0...3650 * day)
            case "failed_retention": configuration.failedRetention = try ConfigurationValue.seconds(value, key: key, in: 0...3650 * day)
            case "retry_backoff_base": configuration.retryPolicy.base = try ConfigurationValue.seconds(value, key: key, in: 0...day)
            case "retry_backoff_max": configuration.retryPolicy.maximum = try ConfigurationValue.seconds(value, key: key, in: 0...30 * day)
            case _ where reservedKeys.contains(key):
                continue  // the scheduler's, which shares this file; checked below
            default:
                throw ConfigurationError(key: key, message: "unknown key\(suggestion(for: key, among: topLevelKeys))")
            }
        }
        // The scheduler's keys share this file: a worker refuses what `porter scheduler` refuses,
        // so a bad schedule stops start-up instead of waiting for `--scheduler`.
        if reservedKeys.contains(where: { root[$0] != nil }) {
            _ = try ScheduleConfiguration.parse(data)
        }
        if configuration.heartbeatInterval * 2 > configuration.rescueAfter {
            throw ConfigurationError(
                key: "rescue_after",
                message: "must be at least twice heartbeat_interval: a worker whose heartbeat is three quarters of rescue_after old stops its own jobs, so it needs room for a heartbeat that comes late")
        }
        return configuration
    }

    static let queueKeys = ["timeout", "background_workers", "max_attempts"]
    static let reservedKeys: Set<String> = ["scheduler_tick_interval", "scheduler_timezone", "scheduler_events"]
    static let topLevelKeys = [
        "workers", "sql_schemas", "sql_functions", "sql_owners", "poll_interval", "poll_only", "heartbeat_interval", "rescue_after",
        "maintenance_interval", "max_orphaned", "shutdown_grace", "cancel_grace", "finished_retention",
        "failed_retention", "retry_backoff_base", "retry_backoff_max", "job_events", "vacuum_threshold",
        "trace_parenting",
    ] + reservedKeys.sorted()

    private static func parseQueue(_ value: Any, name: String, base: QueueConfiguration) throws -> QueueConfiguration {
        guard let settings = value as? [String: Any] else {
            throw ConfigurationError(key: "workers.\(name)", message: "must be an object such as {\"timeout\": 5000, \"background_workers\": 4}")
        }
        var queue = base
        for (key, value) in settings {
            let path = "workers.\(name).\(key)"
            switch key {
            case "timeout": queue.timeout = try ConfigurationValue.integer(value, key: path, in: EnqueueOptions.timeoutRange, unit: "seconds")
            case "background_workers": queue.backgroundWorkers = try ConfigurationValue.integer(value, key: path, in: QueueConfiguration.backgroundWorkersRange)
            case "max_attempts": queue.maxAttempts = try ConfigurationValue.integer(value, key: path, in: EnqueueOptions.maxAttemptsRange)
            default:
                throw ConfigurationError(key: path, message: "unknown key\(suggestion(for: key, among: queueKeys))")
            }
        }
        return queue
    }

    // Each key's range is what its meaning allows, and keeps every value far from where its
    // conversion to a Duration, its arithmetic or its SQL parameter would trap or fail:
    // intervals and graces up to a day or an hour, backoff up to 30 days, retention up to ten
    // years (now() minus it stays a valid timestamptz), a queue's timeout and max_attempts
    // within what a job's own may be (EnqueueOptions).
    private static let day = 86_400.0

    private static func suggestion(for key: String, among known: [String]) -> String {
        let best = known.min { editDistance(key, $0) < editDistance(key, $1) }
        if let best, editDistance(key, best) <= max(2, key.count / 3) {
            return "; did you mean \(best)?"
        }
        return "; known keys are \(known.joined(separator: ", "))"
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// A config file problem: the key at fault (dotted, e.g. `workers.long.timeout`) and the fix.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The key at fault, dotted (`workers.long.timeout`); `nil` for the file as a whole.
    public var key: String?
    /// What is wrong and the fix.
    public var message: String
    /// `config key workers.long.timout: unknown key; did you mean timeout?`
    public var description: String {
        if let key { return "config key \(key): \(message)" }
        return "config: \(message)"
    }
}

/// Whether a value from JSONSerialization is a JSON `true`/`false`. Numbers 0 and 1 also cast
/// to `Bool`, so the cast alone cannot tell `1` from `true`.
func isJSONBoolean(_ value: Any) -> Bool {
    guard let number = value as? NSNumber else { return false }
    return String(cString: number.objCType) == "c"
}
