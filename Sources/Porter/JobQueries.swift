import PorterPostgres

/// The SQL that enqueues and reads jobs, in one place. Built-ins are named with `pg_catalog.`,
/// as in `JobRunQueries`. `package`, so that PorterPostgresNIO runs the same statements on a
/// postgres-nio connection.
package enum JobQueries {
    /// Enqueues one job through porter.enqueue, the SQL-level API, so Swift and SQL share the
    /// rules. A delay is added to the database's clock. Dedup is served by jobs_job_id_active_key.
    ///
    /// Arguments go by position, in porter.enqueue's order, and stop after the last one that
    /// differs from the function's default: PostgreSQL matches a call by name against every
    /// parameter at each parse, and every argument is one more to parse and bind. With all
    /// eleven by name, a single enqueue took 25–30 % longer than a bare INSERT of its row
    /// (`porter bench enqueue`). A job with neither run_at nor a delay passes NULL for run_at,
    /// which the function reads as now().
    package static func enqueue(_ request: EnqueueRequest) -> PQQuery {
        call("SELECT porter.enqueue(", method: request.method, args: request.args, options: request.options)
    }

    /// Enqueues a batch of one method with shared options through porter.enqueue_batch
    /// (migration 0032): the arguments as one JSON array, the options as `enqueue` writes
    /// them. One row (ord, id) per job, in order.
    package static func enqueueBatch(_ batch: EnqueueBatch) -> PQQuery {
        call("SELECT ord, id FROM porter.enqueue_batch(", method: batch.method, args: batch.args, options: batch.options,
             argsRequired: true)
    }

    /// A call of porter.enqueue or porter.enqueue_batch, which take the same parameters in
    /// the same order (`enqueueParameters`): method, args, then the options, by position up
    /// to the last one that is not at its default.
    private static func call(
        _ opening: String, method: String, args: PQJSON, options: EnqueueOptions, argsRequired: Bool = false
    ) -> PQQuery {
        var binds: [any PQEncodable] = [method]
        func bind(_ value: any PQEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        // The parameters after method: whether each is at the default of the functions'
        // signature (migrations 0019, 0021, 0026 and 0032), and how it is written when it is not.
        let hasRunAt = options.runAt != nil || options.delaySeconds != nil
        let byName: [String: (isDefault: Bool, write: () -> String)] = [
            "args": (!argsRequired && args.text == "{}", { bind(args) + "::jsonb" }),
            "queue": (options.queue == "default", { bind(options.queue) }),
            "job_id": (options.jobID == nil, { bind(options.jobID) }),
            "deduplicate": (!options.deduplicate, { bind(options.deduplicate) }),
            "at_front": (!options.atFront, { bind(options.atFront) }),
            "timeout": (options.timeout == nil, { bind(options.timeout) }),
            "run_at": (!hasRunAt, {
                guard hasRunAt else { return "NULL" }
                return "coalesce(\(bind(options.runAt))::timestamptz, pg_catalog.now() + pg_catalog.make_interval(secs => coalesce(\(bind(options.delaySeconds))::float8, 0)))"
            }),
            "priority": (options.priority == 0, { bind(options.priority) }),
            "max_attempts": (options.maxAttempts == nil, { bind(options.maxAttempts) }),
            "depends_on": (options.dependsOn.isEmpty, { bind(options.dependsOn) + "::bigint[]" }),
            "limit_key": (options.limitKey == nil, { bind(options.limitKey) + "::text" }),
            "debounce": (options.debounce == nil, { "pg_catalog.make_interval(secs => \(bind(options.debounceSeconds))::float8)" }),
            "debounce_max": (options.debounceMax == nil, { "pg_catalog.make_interval(secs => \(bind(options.debounceMaxSeconds))::float8)" }),
            "traceparent": (options.traceparent == nil, { bind(options.traceparent) + "::text" }),
            "tracestate": (options.tracestate == nil, { bind(options.tracestate) + "::text" }),
        ]
        let arguments = enqueueParameters.dropFirst().map { byName[$0]! }
        let given = (arguments.lastIndex { !$0.isDefault } ?? -1) + 1
        var sql = opening + "$1"
        for argument in arguments.prefix(given) { sql += ", " + argument.write() }
        return PQQuery(unsafeSQL: sql + ")", binds: binds)
    }

    /// porter.enqueue's parameters in its signature's order, which porter.enqueue_batch shares:
    /// the one place Swift writes that order down; a test compares it with the database's
    /// (`pg_proc.proargnames`).
    package static let enqueueParameters = [
        "method", "args", "queue", "job_id", "deduplicate", "at_front", "timeout", "run_at", "priority", "max_attempts",
        "depends_on", "limit_key", "debounce", "debounce_max", "traceparent", "tracestate",
    ]

    /// Enqueues a document method through porter.enqueue_doc (which calls porter.enqueue).
    /// Without runAt and delay, run_at goes as NULL, which porter.enqueue reads as now (and a
    /// debounced job as now + debounce).
    package static func enqueueDoc(_ job: DocumentJob, options: EnqueueOptions) -> PQQuery {
        """
            SELECT porter.enqueue_doc(doctype => \(job.doctype), name => \(job.name), method => \(job.docMethod), \
            args => \(job.kwargs)::jsonb, queue => \(options.queue), job_id => \(options.jobID), \
            deduplicate => \(options.deduplicate), at_front => \(options.atFront), timeout => \(options.timeout), \
            run_at => coalesce(\(options.runAt)::timestamptz, pg_catalog.now() + pg_catalog.make_interval(secs => \(options.delaySeconds)::float8)), \
            priority => \(options.priority), max_attempts => \(options.maxAttempts), \
            depends_on => \(options.dependsOn.isEmpty ? nil : options.dependsOn)::bigint[], \
            limit_key => \(options.limitKey)::text, \
            debounce => pg_catalog.make_interval(secs => \(options.debounceSeconds)::float8), \
            debounce_max => pg_catalog.make_interval(secs => \(options.debounceMaxSeconds)::float8), \
            traceparent => \(options.traceparent)::text, tracestate => \(options.tracestate)::text)
            """
    }

    /// Enqueues a batch in one statement through porter.enqueue_many; one row per request,
    /// in order, with the new id or NULL for a deduplicated one.
    package static func enqueueMany(_ requests: [EnqueueRequest]) -> PQQuery {
        "SELECT ord, id FROM porter.enqueue_many(\(PQJSON(text: JSONElementValue.array(requests)))::jsonb)"
    }

    /// One job by id; served by jobs_pkey.
    static func get(id: Int64) -> PQQuery {
        "SELECT \(unsafeRaw: JobRecord.columns) FROM porter.jobs WHERE id = \(id)"
    }

    /// One job's status, from porter.job_states, which every role Porter grants may read;
    /// served by jobs_pkey.
    static func status(id: Int64) -> PQQuery {
        "SELECT status FROM porter.job_states WHERE id = \(id)"
    }

    /// The newest jobs, optionally of one status and queue: a backward walk of jobs_pkey that
    /// stops at `limit` matches.
    static func list(status: JobStatus?, queue: String?, limit: Int) -> PQQuery {
        """
        SELECT \(unsafeRaw: JobRecord.columns) FROM porter.jobs
        WHERE (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
          AND (\(queue)::text IS NULL OR queue = \(queue))
        ORDER BY id DESC LIMIT \(limit)
        """
    }
}

extension JobQueries {
    /// Validates a request with porter.check_enqueue, the rules porter.enqueue applies, without
    /// inserting anything (for `now` mode).
    static func check(_ request: EnqueueRequest) -> PQQuery {
        let options = request.options
        return """
            SELECT porter.check_enqueue(\(request.method), \(request.args)::jsonb, \(options.queue), \
            \(options.jobID), \(options.deduplicate), \(options.timeout), \(options.maxAttempts)), \
            porter.check_limit_key(\(options.limitKey)::text, 'porter.enqueue')
            """
    }
}
