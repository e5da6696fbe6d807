import PorterPostgres

extension PorterClient {
    /// Sets the flow-control limits of one scope (`porter.set_limit`), for every worker and
    /// host from the moment this commits: the queue as a whole (no key), one key of the queue
    /// (`limitKey`), or each key that has no limit of its own (`eachKey`). Replaces what the
    /// scope had: a limit left `nil` is no limit. Bad input (a limit below 1, `maxStarts`
    /// without `perSeconds`, both a key and `eachKey`, an oversize key) throws
    /// `PorterError` `invalidArgument` and stores nothing.
    public func setLimit(_ limit: QueueLimit) async throws {
        // What the statement's integer and interval parameters cannot carry never reaches it:
        // PostgreSQL would answer "integer out of range" or "interval out of range", untyped.
        for (parameter, value) in [("max_running", limit.maxRunning), ("max_starts", limit.maxStarts)] {
            if let value, Int32(exactly: value) == nil {
                throw PorterError(
                    code: .invalidArgument(parameter: parameter),
                    message: "porter.set_limit: \(parameter) is \(value), which no integer holds; give a limit from 1 to \(Int32.max)")
            }
        }
        if let per = limit.perSeconds, !per.isFinite || per > QueueLimit.longestWindowSeconds {
            throw PorterError(
                code: .invalidArgument(parameter: "per"),
                message: "porter.set_limit: per is \(per) seconds, longer than 100 years (\(Int(QueueLimit.longestWindowSeconds)) seconds) or not a number; give a window such as 60")
        }
        do {
            _ = try await pool.query(LimitQueries.set(limit))
        } catch {
            throw PorterError.fromEnqueue(error, jobID: nil)
        }
    }

    /// Removes the limits of one scope (`porter.clear_limit`); returns false when it had none.
    @discardableResult
    public func clearLimit(queue: String, limitKey: String? = nil, eachKey: Bool = false) async throws -> Bool {
        do {
            return try await pool.query(LimitQueries.clear(queue: queue, limitKey: limitKey, eachKey: eachKey)).single(Bool.self)
        } catch {
            throw PorterError.fromEnqueue(error, jobID: nil)
        }
    }

    /// Every flow-control limit (`porter.limits`), by queue.
    public func limits() async throws -> [QueueLimit] {
        do {
            return try await pool.query(LimitQueries.list).map { row in
                let (queue, limitKey, eachKey, maxRunning, maxStarts, per, fair) = try row.decode(
                    (String, String?, Bool, Int?, Int?, Double?, Bool).self)
                return QueueLimit(
                    queue: queue, limitKey: limitKey, eachKey: eachKey, maxRunning: maxRunning, maxStarts: maxStarts,
                    perSeconds: per, fair: fair)
            }
        } catch {
            throw PorterError.schemaMissing(error)
        }
    }
}
