import PorterPostgres

/// The SQL of Porter's tracing, in one place.
enum TraceQueries {
    /// The stored trace context of the claimed jobs that have one, read only by a worker
    /// whose tracer records: the claim itself does not return it, so a worker without tracing
    /// pays nothing. Served by jobs_pkey.
    static func storedContexts(ids: [Int64]) -> PQQuery {
        """
        SELECT id, traceparent, tracestate FROM porter.jobs
        WHERE id = ANY(\(ids)::bigint[]) AND traceparent IS NOT NULL
        """
    }
}
