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
    /// them. One row (ord, id) per job, in order. An INSERT of new rows (jobs_pkey and
    /// jobs_claim_idx take them) that locks no existing row; with a job_id, each row's
    /// porter.enqueue probes jobs_job_id_active_key.
    package static func enqueueBatch(_ batch: EnqueueBatch) -> PQQuery {
        call("SELECT ord, id FROM porter.enqueue_batch(", method: batch.method, args: batch.args, options: batch.options,
             argsRequired: true)
    }

    /// A call of porter.enqueue or porter.enqueue_batch, which take the same parameters in
    /// the same order (`enqueueParameters`): method, args, then the options, by position up
    /// to the last one that is not at its default. Two passes over the names with a switch,
    /// no dictionary of closures: built that way, the statement took 4.4 µs of a single
    /// enqueue's Swift time.
    private static func call(
        _ opening: String, method: String, args: PQJSON, options: EnqueueOptions, argsRequired: Bool = false
    ) -> PQQuery {
        let hasRunAt = options.runAt != nil || options.delaySeconds != nil
        // Whether a parameter after method is at the default of the functions' signature
        // (migrations 0019, 0021, 0026 and 0032).
        func isDefault(_ name: String) -> Bool {
            switch name {
            case "args": return !argsRequired && args.text == "{}"
            case "queue": return options.queue == "default"
            case "job_id": return options.jobID == nil
            case "deduplicate": return !options.deduplicate
            case "at_front": return !options.atFront
            case "timeout": return options.timeout == nil
            case "run_at": return !hasRunAt
            case "priority": return options.priority == 0
            case "max_attempts": return options.maxAttempts == nil
            case "depends_on": return options.dependsOn.isEmpty
            case "limit_key": return options.limitKey == nil
            case "debounce": return options.debounce == nil
            case "debounce_max": return options.debounceMax == nil
            case "traceparent": return options.traceparent == nil
            case "tracestate": return options.tracestate == nil
            default: preconditionFailure("enqueueParameters names \(name), which JobQueries does not write")
            }
        }
        var given = 0
        for (position, name) in enqueueParameters.enumerated() where position > 0 && !isDefault(name) { given = position }

        var binds: [any PQEncodable] = [method]
        binds.reserveCapacity(given + 2)
        func bind(_ value: any PQEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        var sql = opening + "$1"
        for name in enqueueParameters.prefix(given + 1).dropFirst() {
            sql += ", "
            switch name {
            case "args": sql += bind(args) + "::jsonb"
            case "queue": sql += bind(options.queue)
            case "job_id": sql += bind(options.jobID)
            case "deduplicate": sql += bind(options.deduplicate)
            case "at_front": sql += bind(options.atFront)
            case "timeout": sql += bind(options.timeout)
            case "run_at":
                sql += hasRunAt
                    ? "coalesce(\(bind(options.runAt))::timestamptz, pg_catalog.now() + pg_catalog.make_interval(secs => coalesce(\(bind(options.delaySeconds))::float8, 0)))"
                    : "NULL"
            case "priority": sql += bind(options.priority)
            case "max_attempts": sql += bind(options.maxAttempts)
            case "depends_on": sql += bind(options.dependsOn) + "::bigint[]"
            case "limit_key": sql += bind(options.limitKey) + "::text"
            case "debounce": sql += "pg_catalog.make_interval(secs => \(bind(options.debounceSeconds))::float8)"
            case "debounce_max": sql += "pg_catalog.make_interval(secs => \(bind(options.debounceMaxSeconds))::float8)"
            case "traceparent": sql += bind(options.traceparent) + "::text"
            case "tracestate": sql += bind(options.tracestate) + "::text"
            default: preconditionFailure("enqueueParameters names \(name), which JobQueries does not write")
            }
        }
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
