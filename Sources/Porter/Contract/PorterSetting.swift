/// The names of the `porter.*` settings that Porter's statements and functions read with
/// `current_setting`, set for one transaction with `set_config(name, value, true)`.
enum PorterSetting {
    /// `on` while a worker's own claim or end runs: porter.jobs' status trigger skips those
    /// rows, since the statement sends their events and releases their dependants itself
    /// (migration 0018).
    static let workerStatement = "porter.worker_statement"
    /// The id of the sql: job running in this transaction, for `porter.current_job_id()`.
    static let currentJobID = "porter.current_job_id"
    /// `on` while an sql: job runs: `porter.publish_progress` raises its progress as a NOTICE,
    /// which the worker relays (`ProgressRelay`).
    static let relayProgress = "porter.relay_progress"
    /// `off` silences the job-state events of status changes in this transaction (porter.jobs'
    /// status trigger and porter.end_attempts read it).
    static let jobEvents = "porter.job_events"
    /// A session may lower `porter.settings.max_args_bytes` for itself
    /// (`porter.effective_settings()`).
    static let maxArgsBytes = "porter.max_args_bytes"
    /// A W3C traceparent that porter.enqueue and enqueue_many store when the caller passes
    /// none, so that a trigger enqueuing inside a traced transaction joins its trace
    /// (migration 0026); an invalid value is ignored.
    static let traceparent = "porter.traceparent"
    /// The tracestate that goes with `traceparent`.
    static let tracestate = "porter.tracestate"
}
