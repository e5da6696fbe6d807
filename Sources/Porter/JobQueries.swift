import PorterPostgres

/// The SQL that enqueues and reads jobs, in one place. Built-ins are named with `pg_catalog.`,
/// as in `JobRunQueries`.
enum JobQueries {
    /// Enqueues one job through porter.enqueue, the SQL-level API, so Swift and SQL share the
    /// rules. A delay is added to the database's clock. Dedup is served by jobs_job_id_active_key.
    static func enqueue(_ request: EnqueueRequest) -> PQQuery {
        let options = request.options
        return """
            SELECT porter.enqueue(method => \(request.method), args => \(request.args)::jsonb, \
            queue => \(options.queue), job_id => \(options.jobID), deduplicate => \(options.deduplicate), \
            at_front => \(options.atFront), timeout => \(options.timeout), \
            run_at => coalesce(\(options.runAt)::timestamptz, pg_catalog.now() + pg_catalog.make_interval(secs => coalesce(\(options.delaySeconds)::float8, 0))), \
            priority => \(options.priority), max_attempts => \(options.maxAttempts), \
            depends_on => \(options.dependsOn.isEmpty ? nil : options.dependsOn)::bigint[])
            """
    }

    /// Enqueues a document method through porter.enqueue_doc (which calls porter.enqueue).
    static func enqueueDoc(_ job: DocumentJob, options: EnqueueOptions) -> PQQuery {
        """
            SELECT porter.enqueue_doc(doctype => \(job.doctype), name => \(job.name), method => \(job.docMethod), \
            args => \(job.kwargs)::jsonb, queue => \(options.queue), job_id => \(options.jobID), \
            deduplicate => \(options.deduplicate), at_front => \(options.atFront), timeout => \(options.timeout), \
            run_at => coalesce(\(options.runAt)::timestamptz, pg_catalog.now() + pg_catalog.make_interval(secs => coalesce(\(options.delaySeconds)::float8, 0))), \
            priority => \(options.priority), max_attempts => \(options.maxAttempts), \
            depends_on => \(options.dependsOn.isEmpty ? nil : options.dependsOn)::bigint[])
            """
    }

    /// Enqueues a batch in one statement through porter.enqueue_many; one row per request,
    /// in order, with the new id or NULL for a deduplicated one.
    static func enqueueMany(_ requests: [EnqueueRequest]) -> PQQuery {
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
            \(options.jobID), \(options.deduplicate), \(options.timeout), \(options.maxAttempts))
            """
    }
}
