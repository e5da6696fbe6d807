import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// `porter worker` exports its spans with swift-otel over OTLP/HTTP when the OTEL variables
/// ask for it, to a receiver this test starts.
@Suite(.serialized) struct TraceExportTests {
    static let config = """
        {"sql_schemas": ["app"], "workers": {"default": {"background_workers": 2}}, "trace_parenting": "child",
         "poll_interval": 0.2, "heartbeat_interval": 0.3, "rescue_after": 4, "maintenance_interval": 0.3, "shutdown_grace": 5}
        """

    /// Runs one sql: job joined to `TracingTests.sampleTraceparent` on a `porter worker` that
    /// exports with `protocol`, stops the worker with SIGTERM, and returns what the receiver got.
    static func exportOneJob(protocol otlpProtocol: String) async throws -> (job: Int64, requests: [OTLPReceiver.Request]) {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let receiver = try await OTLPReceiver.start()
        let worker = try WorkerProcess(
            databaseURL: database.connectionString, config: config,
            environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(receiver.port)",
                "OTEL_EXPORTER_OTLP_PROTOCOL": otlpProtocol,
                "OTEL_SERVICE_NAME": "porter-export-test",
                "OTEL_TRACES_SAMPLER": "parentbased_always_on",
            ])
        let id = try await porter.pool.query(
            "SELECT porter.enqueue('sql:app.record', traceparent => \(TracingTests.sampleTraceparent))").single(Int64.self)
        try await waitForJob(porter, id, .finished, timeout: .seconds(60))
        // A graceful shutdown flushes the spans before the process exits.
        worker.kill(SIGTERM)
        #expect(try await worker.waitForExit(timeout: .seconds(60)) == 0, "\(worker.output)")
        let requests = receiver.received
        try await receiver.shutdown()
        await porter.close()
        return (id, requests)
    }

    @Test func aWorkerProcessExportsItsConsumerSpanAsOTLPJSONToTheConfiguredEndpoint() async throws {
        let (id, requests) = try await Self.exportOneJob(protocol: "http/json")
        let request = try #require(requests.first { $0.uri == "/v1/traces" }, "no request at /v1/traces: \(requests.map(\.uri))")
        #expect(request.contentType?.hasPrefix("application/json") == true)
        let spans = requests.filter { $0.uri == "/v1/traces" }.flatMap { Self.spans(inJSON: $0.body) }
        let span = try #require(spans.first { $0.attributes["messaging.message.id"] == "\(id)" }, "spans: \(spans)")
        #expect(span.name == "process default")
        #expect(span.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(span.parentSpanID == "00f067aa0ba902b7")
        #expect(span.attributes["messaging.system"] == "porter")
        #expect(span.attributes["messaging.operation.type"] == "process")
        #expect(span.attributes["messaging.destination.name"] == "default")
        #expect(span.attributes["porter.job.method"] == "sql:app.record")
        #expect(span.attributes["porter.job.outcome"] == "finished")
        #expect(String(decoding: request.body, as: UTF8.self).contains("porter-export-test"), "the service name")
    }

    @Test func aWorkerProcessExportsOTLPProtobufToV1Traces() async throws {
        let (_, requests) = try await Self.exportOneJob(protocol: "http/protobuf")
        let request = try #require(requests.first { $0.uri == "/v1/traces" }, "no request at /v1/traces: \(requests.map(\.uri))")
        #expect(request.contentType == "application/x-protobuf")
        #expect(!request.body.isEmpty)
        // The span's name and the trace id's bytes are in the message.
        #expect(request.body.range(of: Data("process default".utf8)) != nil)
        #expect(request.body.range(of: Data(hex: "4bf92f3577b34da6a3ce929d0e0e4736")) != nil)
    }

    @Test func grpcIsRefusedByNameSinceOnlyOTLPHTTPIsBuilt() async throws {
        let database = try await TestDatabase.create()
        let result = try await runPorter(
            ["worker", "--database-url", database.connectionString],
            environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"])
        #expect(result.status != 0 && !result.crashed)
        #expect(result.output.contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc") && result.output.contains("http/protobuf"), "\(result.output)")
    }

    @Test func benchBurndownWithTracingSendsItsWorkersSpansToItsOwnSink() async throws {
        let database = try await TestDatabase.create()
        let result = try await runPorter([
            "bench", "burndown", "--jobs", "300", "--concurrency", "10", "--no-baseline", "--tracing",
            "--database-url", database.connectionString,
        ])
        #expect(result.status == 0, "\(result.output)")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("jobs=300") && $0.contains("tracing=on") }, "\(result.output)")
        let exports = try #require(lines.last?.firstMatch(of: /trace_exports=(\d+) trace_export_bytes=(\d+)/), "\(result.output)")
        #expect(Int(exports.1) ?? 0 > 0 && Int(exports.2) ?? 0 > 0, "\(result.output)")
    }

    struct ExportedSpan: CustomStringConvertible {
        var name: String
        var traceID: String
        var parentSpanID: String
        var attributes: [String: String]
        var description: String { "\(name) \(traceID) \(attributes)" }
    }

    /// The spans of an OTLP/JSON export request. Ids may be hex (the OTLP/JSON rule) or base64
    /// (protobuf's JSON mapping of bytes); both are read as hex.
    static func spans(inJSON body: Data) -> [ExportedSpan] {
        guard let root = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return [] }
        var found: [ExportedSpan] = []
        for resource in root["resourceSpans"] as? [[String: Any]] ?? [] {
            for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scope["spans"] as? [[String: Any]] ?? [] {
                    var attributes: [String: String] = [:]
                    for attribute in span["attributes"] as? [[String: Any]] ?? [] {
                        guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any] else { continue }
                        attributes[key] = value.values.first.map { "\($0)" }
                    }
                    found.append(ExportedSpan(
                        name: span["name"] as? String ?? "", traceID: hexID(span["traceId"]), parentSpanID: hexID(span["parentSpanId"]),
                        attributes: attributes))
                }
            }
        }
        return found
    }

    static func hexID(_ value: Any?) -> String {
        guard let text = value as? String else { return "" }
        if text.count == 32 || text.count == 16, text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        guard let bytes = Data(base64Encoded: text) else { return text }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }
}

extension Data {
    /// Bytes from hex digits.
    init(hex: String) {
        var bytes: [UInt8] = []
        var characters = Array(hex)
        while characters.count >= 2 {
            bytes.append(UInt8(String(characters[0..<2]), radix: 16) ?? 0)
            characters.removeFirst(2)
        }
        self.init(bytes)
    }
}
