import PorterPostgres

/// The statements a worker runs on `porter.jobs` while it claims, runs and ends jobs.
///
/// Every state change of a started job is guarded by `status = 'started'`, the worker holding
/// it and its attempt number, so a worker never overwrites a job that a rescuer gave to
/// someone else, and a rescuer never overwrites a job that ended in the meantime.
///
/// Built-in functions are named with `pg_catalog.`: a function a role planted in a schema on
/// the worker's search_path (`public.jsonb_build_object(text, integer, ...)`) would otherwise
/// be a better match than the built-in, and run as the worker. The worker checks at start that
/// its search_path puts pg_catalog first, which covers operators and type names.
enum JobRunQueries {
    /// Claims up to `limit` runnable jobs of one queue in one statement, through
    /// porter.claim_queued (migration 0027): at-front first, then priority, run_at, id; jobs
    /// whose run_at is in the future are left alone, and so is a paused queue. It walks
    /// jobs_claim_idx in that order and locks the rows it takes; SKIP LOCKED lets claimers on
    /// other workers take other rows. The function plans that walk once per session and
    /// whatever the table's statistics say: prepared here as a plain statement, the claim's
    /// generic plan on a table never analyzed sorted every waiting job of the queue at each
    /// claim (ten times slower with 100,000 waiting). Returns each job's wait: from when it
    /// could run (run_at, or the enqueue if later) to the claim. run_at is finite (a table
    /// constraint), enqueued_at need not be: it is capped at now(), so a row written by hand
    /// with 'infinity' cannot fail every claim of its queue.
    ///
    /// The claim marks its transaction as a worker's (porter.worker_statement), so porter.jobs'
    /// status trigger skips its rows, and commits it asynchronously (`asynchronousCommit` says
    /// why that is safe). It sends no state event itself: building and queueing one
    /// notification per job would sit on the claim loop's path, and a notifying commit waits
    /// for NOTIFY's cluster-wide lock, which a completion holds through its WAL flush. The
    /// completer sends the started events with the next batch of ends (`endAttempts`).
    ///
    /// The attempt count saturates instead of overflowing: one row stored with attempts at the
    /// integer's maximum would otherwise fail the claim of its whole batch, every time.
    ///
    /// `skipping` names the methods (and `doctype.doc_method` document methods) this worker
    /// has handed back because it has no handler for them but a live worker does
    /// (`ForeignJobs`): they are left for that worker. It is empty unless a rolling deploy is
    /// under way, and then the claim filters on the rows jobs_claim_idx finds, at the cost of
    /// walking past those jobs while they wait.
    ///
    /// A queue with flow-control limits (a row in porter.queue_limits, migration 0021) is
    /// claimed by porter.claim_limited instead, in the same statement: porter.claim_queued
    /// returns nothing for it and the second branch runs. That function serializes the
    /// claims of its queue with a transaction advisory lock and counts with fresh snapshots,
    /// so no limit is passed across workers. A queue without limits pays a probe of
    /// queue_limits_scope_key per branch, as it pays one of paused_queues_pkey.
    ///
    /// A queue with limits answers every claim with one more row, last, its id NULL and its
    /// wait the seconds until a full rate window frees a start, or NULL (porter.rate_room_in,
    /// migration 0034, which runs after the claim and sees its starts), so the worker claims
    /// again then rather than at its next poll (`ClaimedJob.answer`). A queue without limits
    /// pays nothing for it: the branch's probe of queue_limits_scope_key skips both.
    ///
    /// `withTraceContext` (a worker that traces) adds each job's stored trace context,
    /// `traceparent` and `tracestate`, read in the same statement by two probes of jobs_pkey
    /// per job. The statement's snapshot predates the claim, so it reads the row as it was
    /// queued, which has the same context; a job enqueued after that snapshot (which
    /// porter.claim_limited's fresh snapshots can take) comes back without one.
    static func claimAvailable(
        queue: String, limit: Int, workerID: String, skipping: Set<String> = [], withTraceContext: Bool = false
    ) -> PQQuery {
        var binds: [any PQEncodable] = [queue, workerID, limit]
        var skip = "NULL, NULL"
        if !skipping.isEmpty {
            let documents = skipping.compactMap(HandlerCoverage.documentMethod(inName:)).sorted()
            binds += [skipping.filter { HandlerCoverage.documentMethod(inName: $0) == nil }.sorted(), documents]
            skip = "$4::pg_catalog.text[], $5::pg_catalog.text[]"
        }
        let claim = """
            SELECT * FROM porter.claim_queued($1, $2, $3::pg_catalog.int4, \(skip))
            UNION ALL
            SELECT * FROM (
                SELECT * FROM porter.claim_limited($1, $2, $3::pg_catalog.int4, \(skip))
                UNION ALL
                SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, porter.rate_room_in($1)
            ) AS limited
            WHERE EXISTS (SELECT FROM porter.queue_limits l WHERE l.queue = $1)
            """
        guard withTraceContext else { return PQQuery(unsafeSQL: claim, binds: binds) }
        return PQQuery(
            unsafeSQL: """
                WITH claimed AS (\(claim))
                SELECT c.*,
                       (SELECT j.traceparent FROM porter.jobs j WHERE j.id = c.claimed_id),
                       (SELECT j.tracestate FROM porter.jobs j WHERE j.id = c.claimed_id)
                FROM claimed c
                """,
            binds: binds)
    }

    /// Sends the `started` events of claimed attempts, in claim order and in the trigger's
    /// payload (porter.job_event_payload, migrations 0010 and 0012), once their claim has
    /// committed: the completer's way when sending them with a batch of ends failed. Only for
    /// attempts `workerID` still holds, as porter.end_attempts does (migration 0029): one probe
    /// of jobs_pkey per event, written so that no partial index matches. Asynchronous commit
    /// like the claim's, so it holds NOTIFY's lock only briefly.
    static func notifyStarted(_ attempts: [JobAttempt], workerID: String) -> PQQuery {
        let json = startedEvents(attempts)
        return """
            SELECT pg_catalog.count(pg_catalog.pg_notify('\(unsafeRaw: PorterChannel.realtime)', porter.job_event_payload(s.id, 'started', s.method, s.queue, s.attempt, NULL)))
            FROM pg_catalog.jsonb_to_recordset(\(PQJSON(text: json))::jsonb) AS s(id bigint, method text, queue text, attempt integer, was text)
            WHERE \(unsafeRaw: asynchronousCommit)
              AND EXISTS (SELECT FROM porter.jobs j
                          WHERE j.id = s.id AND j.status = coalesce(s.was, 'started')
                            AND j.worker_id IS NOT DISTINCT FROM \(workerID) AND j.attempts = s.attempt)
            """
    }

    /// Ends attempts: moves each job to its transition's status, if the job is still started
    /// by this worker in that attempt, through porter.end_attempts (migrations 0018 and 0029),
    /// which also sends the `started` events of `announcing` first (of those this worker
    /// still holds, so a retry sends none after their ends), then the changed jobs' state events
    /// (when `jobEvents`), and releases their dependants, with no trigger on the way. The one
    /// statement for every way an attempt ends, batched by the completer or run inside the
    /// job's own transaction. Served by jobs_started_worker_idx (this worker's started jobs)
    /// or jobs_pkey, as the planner chooses; locks the rows it changes, in id order (the order
    /// in which an enqueue with depends_on locks its parents). `ended_at`, an error's time and
    /// a retry's run_at count from one `clock_timestamp()` taken just before the change: the
    /// moment of the write, not the start of the transaction, which for an sql: job is the
    /// start of the job.
    ///
    /// `queued` gives the job back as if never started: the attempt is not counted, and the
    /// job keeps its run_at, so it keeps its place in the queue. A transition marked
    /// `orphaned` (a lost connection) adds one to `orphaned` and, for `queued`, stores its
    /// error. Returns the ids it changed.
    static func endAttempts(
        _ transitions: [(key: JobAttempt.Key, transition: JobTransition)], announcing: [JobAttempt] = [],
        workerID: String, jobEvents: Bool
    ) -> PQQuery {
        // A key whose value would be null or false is left out, and so is a retry delay but a
        // retry's: the function reads a missing key as NULL, which it takes for each of those
        // (migration 0029). The usual end is then
        // {"id":…,"attempt":…,"status":"finished"}, less for both sides to write and read.
        var json = "["
        json.reserveCapacity(transitions.count * 48 + 2)
        for (index, entry) in transitions.sorted(by: { $0.key.id < $1.key.id }).enumerated() {
            let transition = entry.transition
            json += index > 0 ? ",{\"id\":" : "{\"id\":"
            json += String(entry.key.id)
            json += ",\"attempt\":"
            json += String(entry.key.attempt)
            json += ",\"status\":\""
            json += transition.status.rawValue
            json += "\""
            if let result = transition.result {
                json += ",\"result\":"
                json += result.text
            }
            // A retry's run_at is its delay after the write, and NULL would make it NULL.
            if transition.status == .scheduled || transition.retryIn != .zero {
                json += ",\"retry_in\":"
                json += String(transition.retryIn.seconds)
            }
            if transition.orphaned { json += ",\"orphaned\":true" }
            if let error = transition.error {
                json += ",\"error\":"
                JSONElementValue.writeString(error, to: &json)
            }
            json += "}"
        }
        json += "]"
        return """
            SELECT id FROM porter.end_attempts(\(workerID), \(PQJSON(text: startedEvents(announcing)))::jsonb,
                                               \(PQJSON(text: json))::jsonb, \(jobEvents)) AS id
            """
    }

    /// The `started` events of `attempts` as porter.end_attempts and `notifyStarted` read them.
    private static func startedEvents(_ attempts: [JobAttempt]) -> String {
        var json = "["
        json.reserveCapacity(attempts.count * 64 + 2)
        for (index, attempt) in attempts.enumerated() {
            json += index > 0 ? ",{\"id\":" : "{\"id\":"
            json += String(attempt.job.id)
            json += ",\"attempt\":"
            json += String(attempt.job.attempt)
            json += ",\"method\":"
            JSONElementValue.writeString(attempt.job.method, to: &json)
            json += ",\"queue\":"
            JSONElementValue.writeString(attempt.job.queue, to: &json)
            json += "}"
        }
        json += "]"
        return json
    }

    /// Readies an sql: job's transaction: its statement timeout, its id for
    /// `porter.current_job_id()`, progress relayed as NOTICEs (`ProgressRelay`), and notices
    /// sent to the client whatever the role's `client_min_messages`. All local to the transaction.
    /// The timeout is capped at PostgreSQL's largest statement_timeout (about 24 days).
    ///
    /// In the same statement, to spare a round trip, reads who owns the job's function,
    /// `schema.function(jsonb)` exactly (not a procedure, an overload or a polymorphic
    /// lookalike), and whether this worker trusts that owner (`SQLFunctionOwner`): its login
    /// role (`session_user`), the owner of schema porter, or a role of `owners` (`sql_owners`),
    /// role names compared byte for byte. The owner's columns are NULL when there is no such
    /// function. Read in the job's transaction right before the call, so a function re-owned
    /// or replaced after the enqueue is judged as it is when it runs. Served by
    /// pg_namespace_nspname_index and pg_proc_proname_args_nsp_index; takes no lock.
    ///
    /// The check is a statement before the call's, not a condition in it: PostgreSQL runs an
    /// IMMUTABLE function with constant arguments, and inlines a SQL function's body, while it
    /// plans the statement, before any condition of it is evaluated. What that leaves open:
    /// between this read and the call, one round trip later, the owner of the function's
    /// schema may drop a trusted function there (a schema's owner may drop anything in it) and
    /// create its own of that name, which the call would then run. Only a row lock on pg_proc
    /// would hold the drop off, and only a superuser may take one. A function's owner, who may
    /// change it at any time, is trusted anyway.
    static func prepareSQLJob(id: Int64, timeoutSeconds: Int, schema: String, function: String, owners: Set<String>) -> PQQuery {
        """
        SELECT pg_catalog.set_config('statement_timeout', \(String(min(timeoutSeconds, Int(Int32.max) / 1000) * 1000)), true),
               pg_catalog.set_config('\(unsafeRaw: PorterSetting.currentJobID)', \(String(id)), true),
               pg_catalog.set_config('\(unsafeRaw: PorterSetting.relayProgress)', 'on', true),
               pg_catalog.set_config('client_min_messages', 'notice', true),
               f.owner, f.worker_role, f.porter_owner, f.trusted
        FROM (SELECT) AS job LEFT JOIN (
            SELECT pg_catalog.pg_get_userbyid(p.proowner)::pg_catalog.text AS owner, session_user::pg_catalog.text AS worker_role,
                   pg_catalog.pg_get_userbyid(s.nspowner)::pg_catalog.text AS porter_owner,
                   pg_catalog.pg_get_userbyid(p.proowner) = session_user OR p.proowner = s.nspowner
                       OR pg_catalog.pg_get_userbyid(p.proowner)::pg_catalog.text = ANY(\(owners.sorted())::pg_catalog.text[]) AS trusted
            FROM pg_catalog.pg_proc p, pg_catalog.pg_namespace s
            WHERE s.nspname = 'porter'
              AND p.pronamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = \(schema)::pg_catalog.name)
              AND p.proname = \(function)::pg_catalog.name
              AND p.pronargs = 1 AND p.proargtypes[0] = 'pg_catalog.jsonb'::pg_catalog.regtype AND p.prokind = 'f'
        ) AS f ON true
        """
    }

    /// Wakes the workers of `queue`, as an enqueue does: a job went back to waiting there.
    /// Reads no table; takes NOTIFY's cluster-wide lock briefly at commit, so it is sent only
    /// for jobs handed back, never on the claim path.
    static func notifyWaiting(queue: String) -> PQQuery {
        "SELECT pg_catalog.pg_notify(\(PorterChannel.enqueue), \(queue))"
    }

    /// The jobs (and attempts) the database shows as started by this worker, whether
    /// `porter cancel` asked to stop each, and each one's queue and orphaned count (for a
    /// hand-back); served by jobs_started_worker_idx. Takes no lock.
    static func listHeld(workerID: String) -> PQQuery {
        """
        SELECT id, attempts, cancel_requested_at IS NOT NULL, queue, orphaned
        FROM porter.jobs WHERE worker_id = \(workerID) AND status = 'started'
        """
    }

    /// Makes the statement's transaction commit asynchronously: it does not wait for the WAL
    /// flush. Any later durable commit (a completion, an sql: job) flushes the claim before
    /// it, and the WAL writer does within 0.6 s. A claim lost in a server crash inside that
    /// window means the job runs again; if another worker claims it while the first still
    /// runs it, the first one's next heartbeat stops its attempt (`listHeld`). Written as a
    /// condition that is always true and evaluated once, so it costs no round trip. The
    /// claim itself sets it inside porter.claim_queued and porter.claim_limited.
    private static let asynchronousCommit = "(SELECT pg_catalog.set_config('synchronous_commit', 'off', true)) = 'off'"
}
