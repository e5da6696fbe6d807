import Foundation
import Porter
import PorterPostgres

/// How the CLI prints jobs: a table, one job's fields, or JSON.
package enum JobFormatting {
    package static func table(_ jobs: [JobRecord]) -> String {
        let header = ["ID", "STATUS", "QUEUE", "METHOD", "JOB_ID", "ATTEMPTS", "ENQUEUED_AT"]
        let rows = jobs.map { job in
            [
                String(job.id), job.status.rawValue, job.queue, job.method, job.jobID ?? "",
                "\(job.attempts)/\(job.maxAttempts.map(String.init) ?? "-")", timestamp(job.enqueuedAt),
            ]
        }
        return aligned([header] + rows)
    }

    /// Rows as columns, each as wide as its widest cell.
    static func aligned(_ rows: [[String]]) -> String {
        let widths = (rows.first ?? []).indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }

    /// One attempt's entry of `porter.jobs.errors`: `{"attempt", "error", "at", "worker"}`.
    struct AttemptError {
        var attempt: Int?
        var error: String
        var at: String?
        var worker: String?

        /// The entries of a job's `errors`, oldest first; an entry not of that shape is shown
        /// as its JSON.
        static func list(_ errors: PQJSON) -> [AttemptError] {
            guard let entries = try? JSONSerialization.jsonObject(with: Data(errors.text.utf8)) as? [Any] else { return [] }
            return entries.map { entry in
                guard let object = entry as? [String: Any] else { return AttemptError(error: "\(entry)") }
                return AttemptError(
                    attempt: (object["attempt"] as? NSNumber)?.intValue, error: object["error"] as? String ?? "",
                    at: object["at"] as? String, worker: object["worker"] as? String)
            }
        }

        /// `at 2026-12-01T10:00:01.234+00:00 on worker host:4242:17: timed out after 5 s`
        var line: String {
            var text = ""
            if let at { text += "at \(at) " }
            text += "on worker \(worker ?? "unknown")"
            return text + ": " + error
        }
    }

    static func fields(_ job: JobRecord) -> String {
        let fields: [(String, String?)] = [
            ("id", String(job.id)), ("job_id", job.jobID), ("method", job.method), ("queue", job.queue),
            ("status", job.status.rawValue), ("args", job.args.text), ("priority", String(job.priority)),
            ("at_front", String(job.atFront)), ("attempts", String(job.attempts)),
            ("max_attempts", job.maxAttempts.map(String.init) ?? "queue default"),
            ("timeout", job.timeout.map { "\($0) s" } ?? "queue default"),
            ("run_at", timestamp(job.runAt)), ("enqueued_at", timestamp(job.enqueuedAt)),
            ("started_at", job.startedAt.map { timestamp($0) }), ("ended_at", job.endedAt.map { timestamp($0) }),
            ("depends_on", job.dependsOn.isEmpty ? nil : job.dependsOn.map(String.init).joined(separator: ", ")),
            ("orphaned", job.orphaned == 0 ? nil : String(job.orphaned)),
            ("traceparent", job.traceparent),
            ("progress", job.progress?.text), ("result", job.result?.text), ("error", job.error),
        ]
        // Every attempt's error, with when and on which worker: the last one alone is `error`.
        let attempts: [(String, String?)] = AttemptError.list(job.errors).enumerated().map { index, entry in
            ("attempt \(entry.attempt ?? index + 1)", entry.line)
        }
        return (fields + attempts).compactMap { name, value in
            value.map { name.padding(toLength: 13, withPad: " ", startingAt: 0) + $0 }
        }.joined(separator: "\n")
    }

    static func json(_ job: JobRecord) -> String {
        var object: [String: Any] = [
            "id": job.id, "method": job.method, "queue": job.queue, "status": job.status.rawValue,
            "priority": job.priority, "at_front": job.atFront, "attempts": job.attempts,
            "run_at": timestamp(job.runAt), "enqueued_at": timestamp(job.enqueuedAt),
        ]
        object["job_id"] = job.jobID
        object["max_attempts"] = job.maxAttempts
        object["timeout"] = job.timeout
        object["started_at"] = job.startedAt.map { timestamp($0) }
        object["ended_at"] = job.endedAt.map { timestamp($0) }
        object["error"] = job.error
        object["orphaned"] = job.orphaned
        if !job.dependsOn.isEmpty { object["depends_on"] = job.dependsOn }
        object["traceparent"] = job.traceparent
        for (key, value) in [
            ("args", job.args.text), ("progress", job.progress?.text), ("result", job.result?.text), ("errors", job.errors.text),
        ] {
            if let value, let parsed = try? JSONSerialization.jsonObject(with: Data(value.utf8), options: [.fragmentsAllowed]) {
                object[key] = parsed
            }
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// ISO 8601 with milliseconds, in UTC unless another zone is given (`porter schedule`
    /// shows the scheduler's): `2026-12-01T18:15:00.000+05:30`.
    static func timestamp(_ date: Date, in timeZone: TimeZone = TimeZone(identifier: "UTC")!) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = timeZone
        return formatter.string(from: date)
    }
}
