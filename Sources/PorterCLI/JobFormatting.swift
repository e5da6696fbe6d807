import Foundation
import Porter

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
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        return ([header] + rows).map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }

    static func fields(_ job: JobRecord) -> String {
        let fields: [(String, String?)] = [
            ("id", String(job.id)), ("job_id", job.jobID), ("method", job.method), ("queue", job.queue),
            ("status", job.status.rawValue), ("args", job.args.text), ("priority", String(job.priority)),
            ("at_front", String(job.atFront)), ("attempts", String(job.attempts)),
            ("max_attempts", job.maxAttempts.map(String.init) ?? "queue default"),
            ("timeout", job.timeout.map { "\($0) s" } ?? "queue default"),
            ("run_at", timestamp(job.runAt)), ("enqueued_at", timestamp(job.enqueuedAt)),
            ("started_at", job.startedAt.map(timestamp)), ("ended_at", job.endedAt.map(timestamp)),
            ("depends_on", job.dependsOn.isEmpty ? nil : job.dependsOn.map(String.init).joined(separator: ", ")),
            ("orphaned", job.orphaned == 0 ? nil : String(job.orphaned)),
            ("progress", job.progress?.text), ("result", job.result?.text), ("error", job.error),
        ]
        return fields.compactMap { name, value in
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
        object["started_at"] = job.startedAt.map(timestamp)
        object["ended_at"] = job.endedAt.map(timestamp)
        object["error"] = job.error
        object["orphaned"] = job.orphaned
        if !job.dependsOn.isEmpty { object["depends_on"] = job.dependsOn }
        for (key, value) in [("args", job.args.text), ("progress", job.progress?.text), ("result", job.result?.text)] {
            if let value, let parsed = try? JSONSerialization.jsonObject(with: Data(value.utf8), options: [.fragmentsAllowed]) {
                object[key] = parsed
            }
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
