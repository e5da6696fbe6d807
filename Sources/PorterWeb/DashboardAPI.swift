import Foundation
import Hummingbird
import Logging
import Porter
import PorterPostgres

/// The dashboard's routes: the page and its script and style, the JSON it reads, its event
/// stream, and its actions (answered 403 in read-only mode, whose page shows none).
struct DashboardAPI: Sendable {
    let client: PorterClient
    let events: DashboardEvents
    let readOnly: Bool
    let logger: Logger

    /// Most jobs on one page.
    static let pageLimit = 200

    func register(on router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in Self.asset(DashboardAssets.html, type: "text/html; charset=utf-8") }
        router.get("/app.js") { _, _ in Self.asset(DashboardAssets.script, type: "text/javascript; charset=utf-8") }
        router.get("/app.css") { _, _ in Self.asset(DashboardAssets.style, type: "text/css; charset=utf-8") }
        router.get("/api/config") { [readOnly] _, _ in Self.json(["read_only": readOnly]) }
        router.get("/api/stats") { [client] _, _ in
            try await Self.answer { Self.json(text: try await client.statsJSON().text) }
        }
        router.get("/api/jobs") { [client] request, _ in
            try await Self.answer { try await Self.jobs(request, client: client) }
        }
        router.get("/api/jobs/:id") { [client] _, context in
            try await Self.answer {
                guard let id = context.parameters.get("id", as: Int64.self) else { return Self.error(.badRequest, "job ids are numbers") }
                return try await Self.job(id, client: client)
            }
        }
        router.get("/api/workers") { [client] _, _ in
            try await Self.answer { Self.json(try await client.workers().map(Self.object)) }
        }
        router.get("/api/schedule") { [client] _, _ in
            try await Self.answer {
                let rows = try await client.pool.query(DashboardQueries.schedule).map { row in
                    let (event, method, queue, last, next) = try row.decode((String, String, String, Date?, Date).self)
                    var object: [String: Any] = ["event": event, "method": method, "queue": queue, "next_fire_at": Self.time(next)]
                    object["last_fire_at"] = last.map(Self.time)
                    return object
                }
                return Self.json(rows)
            }
        }
        router.get("/api/progress") { [events] _, _ in
            try await Self.answer {
                let current = try await events.currentProgress()
                return Self.json(current.compactMap { event -> [String: Any]? in
                    guard let job = event.job, let progress = try? event.message.decode(RealtimeEvent.Progress.self) else { return nil }
                    var object: [String: Any] = ["job": job, "percent": progress.percent]
                    object["title"] = progress.title
                    object["description"] = progress.description
                    return object
                })
            }
        }
        router.get("/api/events") { [events] _, _ in
            let stream = events.subscribe()
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    for await frame in stream { try await writer.write(ByteBuffer(string: frame)) }
                    try await writer.finish(nil)
                })
        }
        registerActions(on: router)
    }

    private func registerActions(on router: Router<BasicRequestContext>) {
        let readOnly = readOnly
        let client = client
        func action(_ path: RouterPath, _ body: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response) {
            router.post(path) { request, context in
                guard !readOnly else { return Self.error(.forbidden, "this dashboard is read-only") }
                return try await Self.answer { try await body(request, context) }
            }
        }
        action("/api/jobs/:id/retry") { _, context in
            guard let id = context.parameters.get("id", as: Int64.self) else { return Self.error(.badRequest, "job ids are numbers") }
            try await client.retry(id: id)
            return Self.json(["message": "job \(id) is queued again"])
        }
        action("/api/jobs/:id/cancel") { _, context in
            guard let id = context.parameters.get("id", as: Int64.self) else { return Self.error(.badRequest, "job ids are numbers") }
            switch try await client.cancel(id: id) {
            case .canceled: return Self.json(["message": "job \(id) canceled"])
            case .requested: return Self.json(["message": "job \(id) is running; its worker was asked to stop it"])
            }
        }
        action("/api/queues/pause") { request, _ in
            guard let queue = request.uri.queryParameters.get("queue") else { return Self.error(.badRequest, "name the queue: ?queue=...") }
            let changed = try await client.pauseQueue(queue)
            return Self.json(["message": changed ? "queue \(queue) is paused" : "queue \(queue) was paused already"])
        }
        action("/api/queues/resume") { request, _ in
            guard let queue = request.uri.queryParameters.get("queue") else { return Self.error(.badRequest, "name the queue: ?queue=...") }
            let changed = try await client.resumeQueue(queue)
            return Self.json(["message": changed ? "queue \(queue) is running again" : "queue \(queue) was not paused"])
        }
        action("/api/retry-failed") { request, _ in
            let parameters = request.uri.queryParameters
            let selection = JobSelection(
                status: .failed, queue: parameters.get("queue").flatMap { $0.isEmpty ? nil : $0 },
                method: parameters.get("method").flatMap { $0.isEmpty ? nil : $0 })
            let count = try await client.retryJobs(selection)
            return Self.json(["message": "retried \(count) failed \(count == 1 ? "job" : "jobs")", "count": count])
        }
    }

    // MARK: Pages of data

    private static func jobs(_ request: Request, client: PorterClient) async throws -> Response {
        let parameters = request.uri.queryParameters
        func filter(_ name: String) -> String? { parameters.get(name).flatMap { $0.isEmpty ? nil : $0 } }
        let status = filter("status")
        if let status, JobStatus(rawValue: status) == nil {
            return error(.badRequest, "unknown status \(status); use one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let before = filter("before").flatMap { Int64($0) }
        let limit = min(max(filter("limit").flatMap { Int($0) } ?? 50, 1), pageLimit)
        let wholeRows = try await client.pool.query(DashboardQueries.canReadJobRows).single(Bool.self)
        let rows = try await client.pool.query(
            DashboardQueries.jobs(
                status: status, queue: filter("queue"), method: filter("method"), jobID: filter("job_id"), before: before,
                limit: limit, wholeRows: wholeRows))
        var jobs: [[String: Any]] = []
        for row in rows.prefix(limit) {
            let (id, jobID, method, queue, status, attempts, maxAttempts) = try row.decode(
                (Int64, String?, String, String, String, Int, Int?).self)
            var object: [String: Any] = [
                "id": id, "method": method, "queue": queue, "status": status, "attempts": attempts,
                "enqueued_at": time(try row.decode(Date.self, at: 7)),
            ]
            object["job_id"] = jobID
            object["max_attempts"] = maxAttempts
            object["started_at"] = try row.decode(Date?.self, at: 8).map(time)
            object["ended_at"] = try row.decode(Date?.self, at: 9).map(time)
            object["progress"] = try row.decode(PQJSON?.self, at: 10).flatMap(parsed)
            object["error"] = try row.decode(String?.self, at: 11)
            jobs.append(object)
        }
        var page: [String: Any] = ["jobs": jobs]
        // Keyset paging: the next page starts below the last id shown.
        page["next_before"] = rows.count > limit ? jobs.last?["id"] : nil
        return json(page)
    }

    private static func job(_ id: Int64, client: PorterClient) async throws -> Response {
        var object: [String: Any]
        let dependsOn: [Int64]
        if try await client.pool.query(DashboardQueries.canReadJobRows).single(Bool.self) {
            guard let job = try await client.job(id: id) else { return error(.notFound, "no job has id \(id)") }
            object = [
                "id": job.id, "method": job.method, "queue": job.queue, "status": job.status.rawValue,
                "priority": job.priority, "at_front": job.atFront, "attempts": job.attempts, "orphaned": job.orphaned,
                "run_at": time(job.runAt), "enqueued_at": time(job.enqueuedAt), "depends_on": job.dependsOn,
            ]
            object["job_id"] = job.jobID
            object["max_attempts"] = job.maxAttempts
            object["timeout"] = job.timeout
            object["started_at"] = job.startedAt.map(time)
            object["ended_at"] = job.endedAt.map(time)
            object["error"] = job.error
            object["args"] = parsed(job.args)
            object["result"] = job.result.flatMap(parsed)
            object["progress"] = job.progress.flatMap(parsed)
            object["errors"] = parsed(job.errors) ?? []
            dependsOn = job.dependsOn
        } else {
            // The reader role: statuses, counts and timings only.
            guard let row = try await client.pool.query(DashboardQueries.jobState(id: id)).first else {
                return error(.notFound, "no job has id \(id)")
            }
            let jobID = try row.decode(String?.self, at: 1)
            let (method, queue, status) = (try row.decode(String.self, at: 2), try row.decode(String.self, at: 3), try row.decode(String.self, at: 4))
            let (priority, atFront) = (try row.decode(Int.self, at: 5), try row.decode(Bool.self, at: 6))
            object = [
                "id": id, "method": method, "queue": queue, "status": status, "priority": priority, "at_front": atFront,
                "attempts": try row.decode(Int.self, at: 7), "run_at": time(try row.decode(Date.self, at: 10)),
                "enqueued_at": time(try row.decode(Date.self, at: 11)), "orphaned": try row.decode(Int.self, at: 15),
                "errors": [Any](), "hidden": "args, result and errors: this dashboard's role may read only porter.job_states",
            ]
            object["job_id"] = jobID
            object["max_attempts"] = try row.decode(Int?.self, at: 8)
            object["timeout"] = try row.decode(Int?.self, at: 9)
            object["started_at"] = try row.decode(Date?.self, at: 12).map(time)
            object["ended_at"] = try row.decode(Date?.self, at: 13).map(time)
            object["progress"] = try row.decode(PQJSON?.self, at: 14).flatMap(parsed)
            dependsOn = try row.decode([Int64]?.self, at: 16) ?? []
            object["depends_on"] = dependsOn
        }
        func summaries(_ query: PQQuery) async throws -> [[String: Any]] {
            try await client.pool.query(query).map { row in
                let (id, method, status) = try row.decode((Int64, String, String).self)
                return ["id": id, "method": method, "status": status]
            }
        }
        object["parents"] = dependsOn.isEmpty ? [] : try await summaries(DashboardQueries.summaries(ids: dependsOn))
        object["dependants"] = try await summaries(DashboardQueries.dependants(of: id))
        return json(object)
    }

    private static func object(_ worker: WorkerRecord) -> [String: Any] {
        [
            "id": worker.id, "host": worker.host, "pid": worker.pid, "queues": worker.queues, "methods": worker.methods,
            "slots": worker.slots, "slots_busy": worker.slotsBusy, "alive": worker.alive,
            "started_at": time(worker.startedAt), "heartbeat_at": time(worker.heartbeatAt),
        ]
    }

    // MARK: Answers

    /// Runs `body`, turning Porter's errors into JSON errors a page can show.
    private static func answer(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let failure as PorterError {
            switch failure.code {
            case .jobNotFound: return error(.notFound, failure.description)
            case .invalidArgument: return error(.badRequest, failure.description)
            default: return error(.conflict, failure.description)
            }
        } catch {
            return Self.error(.internalServerError, "\(error)")
        }
    }

    static func json(_ value: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])) ?? Data("null".utf8)
        return json(text: String(decoding: data, as: UTF8.self))
    }

    static func json(text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: ["error": message])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: Array(data))))
    }

    private static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: type, .cacheControl: "no-cache",
                // Only this server's own script and style run; nothing inline, nothing else.
                HTTPFields.Element.Name("Content-Security-Policy")!: "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
                HTTPFields.Element.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private static func parsed(_ json: PQJSON) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(json.text.utf8), options: [.fragmentsAllowed])
    }

    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
