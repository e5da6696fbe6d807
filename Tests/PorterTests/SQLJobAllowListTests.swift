import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// Which functions `sql:` jobs may call: the schemas of `sql_schemas` and the functions of
/// `sql_functions`, compared as PostgreSQL compares names.
@Suite struct SQLJobAllowListTests {
    /// Schemas `Kapp` and `\u{212A}app` (KELVIN SIGN, which Unicode takes for K), each with a
    /// function that records which one ran.
    static func twoLookalikeSchemas(_ porter: PorterClient) async throws {
        try await porter.pool.query("CREATE TABLE public.ran (schema text)")
        for schema in ["Kapp", "\u{212A}app"] {
            try await porter.pool.query("CREATE SCHEMA \(identifier: schema)")
            try await porter.pool.query("""
                CREATE FUNCTION \(identifier: schema).ok(args jsonb) RETURNS void LANGUAGE sql AS $$
                    INSERT INTO public.ran VALUES ('\(unsafeRaw: schema)')
                $$
                """)
        }
    }

    @Test func aSchemaThatOnlyLooksLikeAnAllowedOneIsRefused() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await Self.twoLookalikeSchemas(porter)
        let lookalike = try #require(try await porter.enqueue(method: "sql:\u{212A}app.ok").id)
        let allowed = try #require(try await porter.enqueue(method: "sql:Kapp.ok").id)
        let worker = RunningWorker(porter, fastConfiguration { $0.sqlSchemas = ["Kapp"] })
        try await waitForJob(porter, allowed, .finished)
        let refused = try await waitForJob(porter, lookalike, .failed)
        try await worker.shutdown()
        #expect(refused.error?.contains("is not allowed for sql: jobs") == true, "\(refused.error ?? "")")
        #expect(refused.attempts == 1)
        let ran = try await porter.pool.query("SELECT schema FROM public.ran").map { try $0.decode(String.self) }
        #expect(ran == ["Kapp"])
        await porter.close()
    }

    @Test func sqlFunctionsAllowsOneFunctionOfASchemaThatIsNotAllowed() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let listed = try #require(try await porter.enqueue(method: "sql:app.record", args: PQJSON(text: #"{"note": "n"}"#)).id)
        let unlisted = try #require(try await porter.enqueue(method: "sql:app.slow", args: PQJSON(text: #"{"sleep": 0}"#)).id)
        let worker = RunningWorker(porter, fastConfiguration {
            $0.sqlSchemas = []
            $0.sqlFunctions = ["app.record"]
        })
        try await waitForJob(porter, listed, .finished)
        let refused = try await waitForJob(porter, unlisted, .failed)
        try await worker.shutdown()
        #expect(refused.error?.contains(#""sql_functions": ["app.slow"]"#) == true, "\(refused.error ?? "")")
        #expect(try await effects(porter, job: listed) == 1)
        #expect(try await effects(porter, job: unlisted) == 0)
        await porter.close()
    }

    @Test func sqlFunctionsIsReadFromTheConfigAndBadEntriesAreRefusedNamingTheKey() throws {
        let configuration = try WorkerConfiguration.parse(Data(#"{"sql_functions": ["app.refresh_totals", "reports.a.b"]}"#.utf8))
        #expect(configuration.sqlFunctions == ["app.refresh_totals", "reports.a.b"])
        for bad in [#"["refresh"]"#, #"[".f"]"#, #"["app."]"#, #""app.f""#, #"[1]"#, "[\"app.\(String(repeating: "f", count: 64))\"]"] {
            let error = #expect(throws: ConfigurationError.self, "\(bad)") {
                try WorkerConfiguration.parse(Data(#"{"sql_functions": \#(bad)}"#.utf8))
            }
            #expect(error?.key == "sql_functions", "\(bad)")
        }
        let long = #expect(throws: ConfigurationError.self) {
            try WorkerConfiguration.parse(Data("{\"sql_schemas\": [\"\(String(repeating: "s", count: 64))\"]}".utf8))
        }
        #expect(long?.message.contains("longer than 63 bytes") == true)
    }
}
