import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// `porter dev`, and every command on a machine with no database configured.
@Suite struct DevServerTests {
    /// A command's environment with no database configured and the development server in
    /// `directory`.
    static func unconfigured(_ directory: URL) -> [String: String] {
        // runPorter leaves out PORTER_DATABASE_URL, DATABASE_URL and every PG* variable.
        ["PORTER_DEV_DIR": directory.appendingPathComponent("postgres").path]
    }

    @Test func devStartKeepsAServerAfterTheCommandExitsAndStopKeepsItsData() async throws {
        let directory = try temporaryDirectory("porter-dev")
        let environment = Self.unconfigured(directory)
        defer { try? DevelopmentServer(directory: directory.appendingPathComponent("postgres").path).remove() }

        let started = try await runPorter(["dev", "start"], environment: environment)
        #expect(started.status == 0, "\(started.output)")
        #expect(started.output.contains("created and started a development PostgreSQL"), "\(started.output)")
        let status = try await runPorter(["dev", "status"], environment: environment)
        #expect(status.status == 0 && status.output.contains("is running: postgresql://postgres@/postgres?host="), "\(status.output)")

        // No URL anywhere: the commands use it.
        #expect(try await runPorter(["migrate"], environment: environment).status == 0)
        let enqueued = try await runPorter(["enqueue", "porter.noop"], environment: environment)
        let id = try #require(Int64(enqueued.output.trimmingCharacters(in: .whitespacesAndNewlines)), "\(enqueued.output)")

        let stopped = try await runPorter(["dev", "stop"], environment: environment)
        #expect(stopped.status == 0 && stopped.output.contains("stopped the development PostgreSQL"), "\(stopped.output)")
        let down = try await runPorter(["dev", "status"], environment: environment)
        #expect(down.status == 1 && down.output.contains("is stopped"), "\(down.output)")

        // The next command starts it again, says so on stderr, and finds the job.
        let listed = try await runPorter(["job", "\(id)", "--json"], environment: environment)
        #expect(listed.status == 0, "\(listed.output)")
        #expect(listed.output.contains("no database configured: started the development PostgreSQL"), "\(listed.output)")
        #expect(listed.output.contains(#""method":"porter.noop""#), "\(listed.output)")

        let removed = try await runPorter(["dev", "stop", "--remove"], environment: environment)
        #expect(removed.status == 0 && removed.output.contains("removed the development PostgreSQL"), "\(removed.output)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("postgres").path))
    }

    @Test func commandsStartedTogetherWithoutADatabaseShareOneNewServer() async throws {
        let directory = try temporaryDirectory("porter-dev")
        let environment = Self.unconfigured(directory)
        defer { try? DevelopmentServer(directory: directory.appendingPathComponent("postgres").path).remove() }
        async let first = runPorter(["migrate"], environment: environment)
        async let second = runPorter(["migrate"], environment: environment)
        let results = try await [first, second]
        for result in results { #expect(result.status == 0, "\(result.output)") }
        #expect(results.filter { $0.output.contains("created a development PostgreSQL") }.count == 1, "\(results.map(\.output))")
        let server = DevelopmentServer(directory: directory.appendingPathComponent("postgres").path)
        let porter = PorterClient(pool: PQPool(try PQConfiguration(server.connectionString), maximumConnections: 1))
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.schema_migrations").single(Int.self) == Migration.all.count)
        await porter.close()
    }

    @Test func aPGVariableMeansLibpqsDefaultsAndNoDevelopmentServer() async throws {
        let directory = try temporaryDirectory("porter-dev")
        var environment = Self.unconfigured(directory)
        environment["PGHOST"] = "/nonexistent/porter"
        let result = try await runPorter(["jobs"], environment: environment)
        #expect(result.status == 1)
        #expect(result.output.contains("could not connect to PostgreSQL"), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("postgres").path))
    }
}
