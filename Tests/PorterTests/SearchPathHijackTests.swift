import Foundation
import Logging
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// An application role that owns the database may create functions in `public`, which is on
/// every session's search_path. One that is a better match than a built-in (`to_json(text)`
/// against `pg_catalog.to_json(anyelement)`) is what an unqualified call resolves to, and it
/// runs with the rights of whoever calls it: here, a superuser worker. None may run.
@Suite struct SearchPathHijackTests {
    /// Functions named like the built-ins Porter's functions and the worker's statements call,
    /// each exactly matching a call's argument types; each records that it ran, and as whom,
    /// then does what the built-in does, as a real attacker's would.
    static let planted: [(signature: String, call: String)] = [
        ("to_json(v text) RETURNS json", "pg_catalog.to_json(v)"),
        ("to_jsonb(v text) RETURNS jsonb", "pg_catalog.to_jsonb(v)"),
        ("to_jsonb(v jsonb) RETURNS jsonb", "pg_catalog.to_jsonb(v)"),
        ("format(f text, a text) RETURNS text", "pg_catalog.format(f, a)"),
        ("format(f text, a integer) RETURNS text", "pg_catalog.format(f, a)"),
        ("format(f text, a text, b text) RETURNS text", "pg_catalog.format(f, a, b)"),
        ("format(f text, a bigint, b text, c text) RETURNS text", "pg_catalog.format(f, a, b, c)"),
        ("jsonb_build_array(a jsonb) RETURNS jsonb", "pg_catalog.jsonb_build_array(a)"),
        ("jsonb_build_object(k1 text, v1 integer, k2 text, v2 text, k3 text, v3 timestamptz, k4 text, v4 text) RETURNS jsonb",
         "pg_catalog.jsonb_build_object(k1, v1, k2, v2, k3, v3, k4, v4)"),
        ("jsonb_build_object(k1 text, v1 integer, k2 text, v2 text, k3 text, v3 timestamptz) RETURNS jsonb",
         "pg_catalog.jsonb_build_object(k1, v1, k2, v2, k3, v3)"),
        ("jsonb_build_object(k1 text, v1 text, k2 text, v2 bigint, k3 text, v3 jsonb) RETURNS jsonb",
         "pg_catalog.jsonb_build_object(k1, v1, k2, v2, k3, v3)"),
        ("jsonb_build_object(k1 text, v1 numeric, k2 text, v2 text, k3 text, v3 text) RETURNS jsonb",
         "pg_catalog.jsonb_build_object(k1, v1, k2, v2, k3, v3)"),
        ("make_interval(secs double precision) RETURNS interval", "pg_catalog.make_interval(secs => secs)"),
        ("set_config(n text, v text, l boolean) RETURNS text", "pg_catalog.set_config(n, v, l)"),
    ]

    /// A database owned by an application role, with the functions above planted in `public`.
    static func plantedDatabase() async throws -> TestRoles {
        let database = try await TestDatabase.create()
        var roles = TestRoles(database)
        let app = try await roles.create("app")
        try await roles.admin.pool.query("ALTER DATABASE \(identifier: database.name) OWNER TO \(identifier: app)")
        let asApp = try roles.client("app")
        // PostgreSQL 15's public schema belongs to the database's owner.
        try await asApp.pool.query("CREATE TABLE public.hijacks (by_role text, what text)")
        try await asApp.pool.query("GRANT INSERT ON public.hijacks TO PUBLIC")
        for (signature, call) in planted {
            let name = String(signature.prefix { $0 != "(" })
            try await asApp.pool.query("""
                CREATE FUNCTION public.\(unsafeRaw: signature) LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO public.hijacks VALUES (current_user, '\(unsafeRaw: name)');
                    RETURN \(unsafeRaw: call);
                END $$
                """)
        }
        await asApp.close()
        return roles
    }

    static func hijacks(_ porter: PorterClient) async throws -> [String] {
        try await porter.pool.query("SELECT DISTINCT what || ' as ' || by_role FROM public.hijacks ORDER BY 1")
            .map { try $0.decode(String.self) }
    }

    @Test func noFunctionPlantedInPublicRunsWhileASuperuserWorkerRunsEveryKindOfJob() async throws {
        let roles = try await Self.plantedDatabase()
        var registry = JobRegistry()
        registry.register(method: "porter.noop") { _, _ in nil }
        registry.register(method: "app.flaky") { _, _ in throw CancellationError() }
        registry.register(method: "app.progress") { _, context in
            try await context.publishProgress(percent: 50, title: "half", description: "way")
            try await context.publishRealtime(event: "halfway", message: PQJSON(text: #"{"n": 1}"#))
            return nil
        }
        // The worker connects as the server's superuser.
        let porter = roles.database.makeClient(maximumConnections: 6, registry: registry)
        try await createSQLJobs(porter)
        try await porter.pool.query("""
            CREATE FUNCTION app.raise_long(args jsonb) RETURNS void LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '%', repeat('x', 3000); END $$
            """)
        try await porter.pool.query("CREATE TABLE app.customers (id int PRIMARY KEY, name text)")
        try await porter.pool.query("""
            CREATE TRIGGER customers_notify AFTER INSERT OR UPDATE ON app.customers
                FOR EACH ROW EXECUTE FUNCTION porter.enqueue_row_event('porter.noop')
            """)
        var ids = try await porter.enqueueMany([
            EnqueueRequest(method: "porter.noop"),
            EnqueueRequest(method: "sql:app.record", args: PQJSON(text: #"{"note": "n"}"#)),
            EnqueueRequest(method: "sql:app.counted"),
            EnqueueRequest(method: "app.progress"),
            EnqueueRequest(method: "porter.noop", options: EnqueueOptions(delay: .milliseconds(10))),
        ]).compactMap(\.id)
        let flaky = try #require(try await porter.enqueue(method: "app.flaky", options: EnqueueOptions(maxAttempts: 2)).id)
        let long = try #require(try await porter.enqueue(method: "sql:app.raise_long").id)
        let parent = try #require(try await porter.enqueue(method: "app.flaky").id)
        let child = try #require(try await porter.enqueue(method: "porter.noop", options: EnqueueOptions(dependsOn: [parent])).id)
        let happyParent = try #require(try await porter.enqueue(method: "porter.noop", options: EnqueueOptions(delay: .milliseconds(300))).id)
        let happyChild = try #require(try await porter.enqueue(method: "porter.noop", options: EnqueueOptions(dependsOn: [happyParent])).id)
        try await porter.pool.query("INSERT INTO app.customers VALUES (1, 'a')")
        try await porter.pool.query("UPDATE app.customers SET name = 'b'")
        ids += try await porter.pool.query("SELECT id FROM porter.jobs WHERE args->>'table' = 'app.customers'").map { try $0.decode(Int64.self) }
        try await porter.pool.query("SELECT porter.publish_realtime('hello', '{\"big\": \"\(unsafeRaw: String(repeating: "y", count: 9000))\"}')")
        // A job whose worker died, for the rescuer.
        let orphan = try #require(try await porter.enqueue(method: "porter.noop").id)
        try await porter.pool.query("UPDATE porter.jobs SET status = 'started', worker_id = 'gone', attempts = 1 WHERE id = \(orphan)")

        let worker = RunningWorker(porter, fastConfiguration())
        for id in ids + [orphan, happyChild] { try await waitForJob(porter, id, .finished) }
        try await waitForJob(porter, flaky, .failed)
        try await waitForJob(porter, long, .failed)
        try await waitForJob(porter, parent, .failed)
        try await waitForJob(porter, child, .canceled)
        try await porter.retry(id: parent)
        try await waitForJob(porter, parent, .failed)
        try await worker.shutdown()

        #expect(try await Self.hijacks(porter) == [])
        await porter.close()
        await roles.dropAll()
    }

    /// The database's owner may also set the search_path of every session, the worker's too,
    /// to name its schema before pg_catalog; then its operators win even where the built-in
    /// matches exactly. Porter's functions, which pin their own, run none of them, and the
    /// worker refuses to start rather than send its statements through such a path.
    @Test func aDatabaseSearchPathBeforePgCatalogStopsTheWorkerAndPorterFunctionsIgnoreIt() async throws {
        let roles = try await Self.plantedDatabase()
        let asApp = try roles.client("app")
        try await asApp.pool.query("""
            CREATE FUNCTION public.hijacked_text_equals(a text, b text) RETURNS boolean LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO public.hijacks VALUES (current_user, '=');
                RETURN a OPERATOR(pg_catalog.=) b;
            END $$
            """)
        try await asApp.pool.query(
            "CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.hijacked_text_equals)")
        try await asApp.pool.query("ALTER DATABASE \(identifier: roles.database.name) SET search_path = public, pg_catalog")
        await asApp.close()

        // New sessions of the superuser get the path.
        let porter = roles.database.makeClient(maximumConnections: 3)
        #expect(try await porter.pool.query("SHOW search_path").single(String.self) == "public, pg_catalog")
        let id = try #require(try await porter.enqueue(method: "m", options: EnqueueOptions(queue: "q", jobID: "k", deduplicate: true)).id)
        _ = try await porter.enqueueMany([EnqueueRequest(method: "m", options: EnqueueOptions(jobID: "k2"))])
        try await porter.pool.query("SELECT porter.publish_realtime('note', '{}', \(id))")
        try await porter.pool.query("SELECT porter.publish_job_progress(\(id), 10)")
        #expect(try await Self.hijacks(porter) == [])

        let worker = Worker(client: porter, configuration: fastConfiguration())
        let outcome: (any Error)? = await withTaskGroup(of: (any Error)?.self) { group in
            group.addTask {
                do {
                    try await worker.run()
                    return nil
                } catch {
                    return error
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(20))
                return CancellationError()
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        let refusal = try #require(outcome as? PorterError, "the worker ran: \(String(describing: outcome))")
        #expect(refusal.code == .unsafeSearchPath)
        #expect(refusal.message.contains("puts schema public before pg_catalog"))
        #expect(try await Self.hijacks(porter) == [])
        await porter.close()
        await roles.dropAll()
    }
}
