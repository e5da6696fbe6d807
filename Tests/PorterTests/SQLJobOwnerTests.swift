import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// An `sql:` job runs only a function whose owner the worker trusts: its own login role, the
/// owner of schema `porter`, and the roles of `sql_owners`. A function runs with the rights of
/// the worker that calls it, so otherwise a role that owns a schema of `sql_schemas` could run
/// its code as the worker.
@Suite struct SQLJobOwnerTests {
    /// A function in schema `schema` that records in app.effects that it ran for its job.
    static func recordingFunction(_ porter: PorterClient, _ name: String, schema: String = "app") async throws {
        try await porter.pool.query("""
            CREATE FUNCTION \(identifier: schema).\(identifier: name)(args jsonb) RETURNS void LANGUAGE sql AS $$
                INSERT INTO app.effects (job, note) VALUES (porter.current_job_id(), '\(unsafeRaw: name)')
            $$
            """)
    }

    static func giveAway(_ porter: PorterClient, _ function: String, to role: String) async throws {
        try await porter.pool.query("ALTER FUNCTION app.\(identifier: function)(jsonb) OWNER TO \(identifier: role)")
    }

    /// The issue's attack: an application role owns schema `app`, as apps own their schema,
    /// creates `app.escalate(jsonb)` there and enqueues it; the worker logs in as a superuser
    /// and allows schema `app`. The function would write app.log and make its owner a
    /// superuser. It does not run: the job fails at once, naming the function, its owner and
    /// `sql_owners`, and app.log stays empty.
    @Test func aFunctionAnApplicationRoleOwnsDoesNotRunUnderASuperuserWorker() async throws {
        let database = try await TestDatabase.create()
        var roles = TestRoles(database)
        let appRole = try await roles.create("app")
        try await roles.admin.pool.query("CREATE SCHEMA app AUTHORIZATION \(identifier: appRole)")
        try await roles.admin.pool.query("SELECT porter.grant_enqueuer(\(appRole))")
        let app = try roles.client("app")
        try await app.pool.query("CREATE TABLE app.log (note text)")
        try await app.pool.query("GRANT INSERT ON app.log TO PUBLIC")
        try await app.pool.query("""
            CREATE FUNCTION app.escalate(args jsonb) RETURNS void LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO app.log VALUES ('ran as ' || current_user);
                ALTER ROLE \(identifier: appRole) SUPERUSER;
            END $$
            """)
        // A lookalike that a call of app.lookalike(jsonb) would resolve to, had it no check.
        try await app.pool.query("""
            CREATE FUNCTION app.lookalike(args anyelement) RETURNS void LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO app.log VALUES ('lookalike ran as ' || current_user);
            END $$
            """)
        let escalate = try #require(try await app.enqueue(method: "sql:app.escalate", options: EnqueueOptions(maxAttempts: 3)).id)
        let lookalike = try #require(try await app.enqueue(method: "sql:app.lookalike").id)

        let porter = database.makeClient()
        #expect(try await porter.connectsAsSuperuser())
        let worker = RunningWorker(porter, fastConfiguration { $0.sqlSchemas = ["app"] })
        let refused = try await waitForJob(porter, escalate, .failed)
        let missing = try await waitForJob(porter, lookalike, .failed)
        try await worker.shutdown()

        let error = refused.error ?? ""
        #expect(error.contains("function app.escalate(jsonb) is owned by role \(appRole)"), "\(error)")
        #expect(error.contains(#""sql_owners""#), "\(error)")
        #expect(error.contains(#"{"sql_owners": ["\#(appRole)"]}"#), "\(error)")
        // Refused like a function outside sql_schemas: no retry would change the answer.
        #expect(refused.attempts == 1)
        #expect(missing.error?.contains("function app.lookalike(jsonb) does not exist") == true, "\(missing.error ?? "")")
        #expect(try await porter.pool.query("SELECT count(*) FROM app.log").single(Int.self) == 0)
        #expect(try await porter.pool.query("SELECT rolsuper FROM pg_roles WHERE rolname = \(appRole)").single(Bool.self) == false)
        await app.close()
        await porter.close()
        await roles.dropAll()
    }

    /// Under a worker that logs in as a role of `porter.grant_worker`: its own functions run,
    /// and so do those of schema porter's owner and of a role in `sql_owners`; a function of any
    /// other role does not, nor one whose owner's name matches an entry only when case is
    /// folded (names are compared as PostgreSQL compares them).
    @Test func functionsOfTheWorkersRolePortersOwnerAndSQLOwnersRunAndNoOthers() async throws {
        let database = try await TestDatabase.create()
        var roles = TestRoles(database)
        let workerRole = try await roles.create("worker")
        let reports = try await roles.create("reports")
        let appRole = try await roles.create("app")
        let admin = roles.admin
        try await admin.pool.query("SELECT porter.grant_worker(\(workerRole))")
        try await createSQLJobs(admin)
        try await admin.pool.query("GRANT USAGE ON SCHEMA app TO \(identifier: workerRole)")
        try await admin.pool.query("GRANT INSERT ON app.effects TO \(identifier: workerRole)")
        for name in ["by_worker", "by_porters_owner", "by_reports", "by_app"] {
            try await Self.recordingFunction(admin, name)
        }
        try await Self.giveAway(admin, "by_worker", to: workerRole)
        try await Self.giveAway(admin, "by_reports", to: reports)
        try await Self.giveAway(admin, "by_app", to: appRole)
        var ids: [String: Int64] = [:]
        for name in ["by_worker", "by_porters_owner", "by_reports", "by_app"] {
            ids[name] = try #require(try await admin.enqueue(method: "sql:app.\(name)").id)
        }

        let asWorker = try roles.client("worker", maximumConnections: 6)
        #expect(try await asWorker.connectsAsSuperuser() == false)
        let worker = RunningWorker(asWorker, fastConfiguration {
            $0.sqlSchemas = ["app"]
            $0.sqlOwners = [reports, appRole.uppercased()]
        })
        for name in ["by_worker", "by_porters_owner", "by_reports"] {
            try await waitForJob(admin, ids[name]!, .finished)
            #expect(try await effects(admin, job: ids[name]!) == 1, "\(name)")
        }
        let refused = try await waitForJob(admin, ids["by_app"]!, .failed)
        try await worker.shutdown()
        #expect(refused.error?.contains("is owned by role \(appRole)") == true, "\(refused.error ?? "")")
        #expect(refused.error?.contains("its own role (\(workerRole))") == true, "\(refused.error ?? "")")
        #expect(try await effects(admin, job: ids["by_app"]!) == 0)
        await asWorker.close()
        await roles.dropAll()
    }

    /// The owner is read when the job runs, in its transaction: a function given away after
    /// its job was enqueued is refused, one given to a trusted role runs, and a worker that ran
    /// a function refuses it once it has changed hands.
    @Test func aFunctionsOwnerIsJudgedWhenItsJobRunsNotWhenItWasEnqueued() async throws {
        let database = try await TestDatabase.create()
        var roles = TestRoles(database)
        let appRole = try await roles.create("app")
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        for name in ["given_away", "taken_back", "changes_hands"] {
            try await Self.recordingFunction(porter, name)
        }
        try await Self.giveAway(porter, "taken_back", to: appRole)
        let givenAway = try #require(try await porter.enqueue(method: "sql:app.given_away").id)
        let takenBack = try #require(try await porter.enqueue(method: "sql:app.taken_back").id)
        try await Self.giveAway(porter, "given_away", to: appRole)
        let superuser = try await porter.pool.query("SELECT session_user::text").single(String.self)
        try await Self.giveAway(porter, "taken_back", to: superuser)

        let worker = RunningWorker(porter, fastConfiguration())
        let refused = try await waitForJob(porter, givenAway, .failed)
        try await waitForJob(porter, takenBack, .finished)
        #expect(refused.error?.contains("is owned by role \(appRole)") == true, "\(refused.error ?? "")")
        #expect(try await effects(porter, job: givenAway) == 0)
        #expect(try await effects(porter, job: takenBack) == 1)

        // The same worker, the same function: trusted, then given away.
        let first = try #require(try await porter.enqueue(method: "sql:app.changes_hands").id)
        try await waitForJob(porter, first, .finished)
        try await Self.giveAway(porter, "changes_hands", to: appRole)
        let second = try #require(try await porter.enqueue(method: "sql:app.changes_hands").id)
        try await waitForJob(porter, second, .failed)
        try await worker.shutdown()
        #expect(try await effects(porter, job: first) == 1)
        #expect(try await effects(porter, job: second) == 0)
        await porter.close()
        await roles.dropAll()
    }

    @Test func sqlOwnersIsReadFromTheConfigAndBadValuesAreRefusedNamingTheKey() throws {
        let configuration = try WorkerConfiguration.parse(Data(#"{"sql_owners": ["app_owner", "Reports"]}"#.utf8))
        #expect(configuration.sqlOwners == ["app_owner", "Reports"])
        #expect(try WorkerConfiguration.parse(Data("{}".utf8)).sqlOwners.isEmpty)
        for bad in [#""app_owner""#, "1", "{}", "null", #"[1]"#, #"[""]"#, #"["a", null]"#, #"["a\u0000b"]"#, "[\"\(String(repeating: "r", count: 64))\"]"] {
            let error = #expect(throws: ConfigurationError.self, "\(bad)") {
                try WorkerConfiguration.parse(Data(#"{"sql_owners": \#(bad)}"#.utf8))
            }
            #expect(error?.key == "sql_owners", "\(bad)")
            #expect(error?.message.contains("role name") == true, "\(bad): \(error?.message ?? "")")
        }
        let typo = #expect(throws: ConfigurationError.self) {
            try WorkerConfiguration.parse(Data(#"{"sql_owner": ["app"]}"#.utf8))
        }
        #expect(typo?.message.contains("did you mean sql_owners?") == true, "\(typo?.message ?? "")")
    }
}
